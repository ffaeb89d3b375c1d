using System.Text.Json;
using System.Text.Json.Serialization;

namespace KvTier.Cluster.Membership;

/// <summary>
/// The value stored at <c>/kvtier/&lt;cluster&gt;/members/&lt;node-id&gt;</c> (a wire contract: other tools read it).
/// </summary>
internal sealed record EtcdMemberRecord(
    [property: JsonPropertyName("node_id")] string NodeId,
    [property: JsonPropertyName("grpc")] string Grpc,
    [property: JsonPropertyName("data")] string Data,
    [property: JsonPropertyName("seed_fingerprint")] string SeedFingerprint,
    [property: JsonPropertyName("capacity")] long Capacity)
{
    public static EtcdMemberRecord From(ClusterMember member) =>
        new(member.NodeId, member.GrpcEndpoint, member.DataEndpoint, member.SeedFingerprint, member.CapacityBytes);

    public ClusterMember ToMember() => new(NodeId, Grpc, Data, SeedFingerprint, Capacity);

    public string ToJson() => JsonSerializer.Serialize(this, EtcdJsonContext.Default.EtcdMemberRecord);

    /// <summary>Parses a record; null and a reason when the value is not a complete record.</summary>
    public static EtcdMemberRecord? TryParse(ReadOnlySpan<byte> utf8, out string reason)
    {
        try
        {
            var record = JsonSerializer.Deserialize(utf8, EtcdJsonContext.Default.EtcdMemberRecord);
            reason = record is null ? "the value is JSON null" : "";
            return record;
        }
        catch (JsonException e)
        {
            reason = e.Message;
            return null;
        }
    }
}

/// <summary>Source-generated JSON for <see cref="EtcdMemberRecord"/>; missing or null fields are errors.</summary>
[JsonSourceGenerationOptions(RespectNullableAnnotations = true, RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(EtcdMemberRecord))]
internal sealed partial class EtcdJsonContext : JsonSerializerContext;
