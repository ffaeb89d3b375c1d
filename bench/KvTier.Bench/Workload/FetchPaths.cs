namespace KvTier.Bench;

/// <summary>Opens the fetch path for a link: same-node DRAM for <c>local</c>, a shaped peer link otherwise.</summary>
internal static class FetchPaths
{
    public static async Task<IFetchPath> OpenAsync(LinkSpec link, WorkloadNode node, CancellationToken ct) =>
        link.IsLocal ? new LocalFetchPath(node) : await PeerFetchPath.OpenAsync(link, node, ct).ConfigureAwait(false);
}
