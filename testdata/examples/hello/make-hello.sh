#!/bin/sh
# Builds the "program": a greeting personalised at build time and a script that prints it.
set -e
out=$1
mkdir -p "$out"
sed 's/World/builder/' greeting.txt > "$out/greeting"
printf '#!/bin/sh\ncat "${GREETING_DIR:-/usr/share/hello}/greeting"\n' > "$out/hello"
chmod 755 "$out/hello"
