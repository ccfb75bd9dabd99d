using System.Net;

namespace Builder.Core.Registry;

/// <summary>
/// A registry refused or failed a request. The message names the registry, repository and the
/// tag or digest involved, and never carries credentials or tokens.
/// </summary>
public class RegistryException(string message, HttpStatusCode? status = null, Exception? inner = null)
    : Exception(message, inner)
{
    public HttpStatusCode? Status { get; } = status;
}

/// <summary>Content from a registry did not match the digest it was asked for; nothing of it was stored.</summary>
public sealed class DigestMismatchException(string message, Exception? inner = null) : RegistryException(message, null, inner);
