namespace Builder.Core.Oci;

/// <summary>The media types of the OCI image spec and of Docker's schema 2, which registries still serve.</summary>
public static class MediaTypes
{
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciConfig = "application/vnd.oci.image.config.v1+json";
    public const string OciLayer = "application/vnd.oci.image.layer.v1.tar";
    public const string OciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
    public const string OciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";

    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerConfig = "application/vnd.docker.container.image.v1+json";
    public const string DockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    public const string DockerLayer = "application/vnd.docker.image.rootfs.diff.tar";

    public static bool IsIndex(string mediaType) => mediaType is OciIndex or DockerManifestList;
    public static bool IsManifest(string mediaType) => mediaType is OciManifest or DockerManifest;

    /// <summary>
    /// The same layer under the other naming scheme. Docker's schema 2 has no zstd type, so a zstd
    /// layer keeps its OCI type (as BuildKit does, and Docker 23+ reads it).
    /// </summary>
    public static string LayerMediaType(string mediaType, bool oci) => (mediaType, oci) switch
    {
        (DockerLayerGzip, true) => OciLayerGzip,
        (DockerLayer, true) => OciLayer,
        (OciLayerGzip, false) => DockerLayerGzip,
        (OciLayer, false) => DockerLayer,
        _ => mediaType,
    };
}
