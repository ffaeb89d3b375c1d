using System.Buffers.Binary;
using System.IO.Hashing;
using KvTier.Core;

namespace KvTier.Cluster.Membership;

/// <summary>
/// Rendezvous (highest-random-weight) placement: a block's owners are the <c>R</c> live members with the highest
/// weight hash(key, node). When a member leaves only the blocks it owned move; when one joins it takes about 1/N of them.
/// </summary>
public static class Rendezvous
{
    /// <summary>
    /// Writes the indices (into <paramref name="members"/>) of the block's owners, best first, and returns how many
    /// (min of <paramref name="replicas"/> and the member count).
    /// </summary>
    public static int Owners(in BlockKey key, IReadOnlyList<ClusterMember> members, int replicas, Span<int> owners)
    {
        var count = Math.Min(Math.Min(replicas, members.Count), owners.Length);
        Span<ulong> best = stackalloc ulong[Math.Max(count, 1)];
        var found = 0;
        for (var m = 0; m < members.Count && count > 0; m++)
        {
            var weight = Weight(key, members[m]);
            int at;
            if (found < count)
            {
                at = found++;
            }
            else if (weight > best[count - 1])
            {
                at = count - 1;
            }
            else
            {
                continue;
            }

            // Insertion into the small sorted top-R list (R is 1-3 in practice).
            for (; at > 0 && best[at - 1] < weight; at--)
            {
                best[at] = best[at - 1];
                owners[at] = owners[at - 1];
            }

            best[at] = weight;
            owners[at] = m;
        }

        return found;
    }

    /// <summary>The owners themselves, best first.</summary>
    public static ClusterMember[] OwnersOf(in BlockKey key, IReadOnlyList<ClusterMember> members, int replicas)
    {
        Span<int> indices = stackalloc int[Math.Max(1, Math.Min(replicas, members.Count))];
        var n = Owners(key, members, replicas, indices);
        var result = new ClusterMember[n];
        for (var i = 0; i < n; i++)
        {
            result[i] = members[indices[i]];
        }

        return result;
    }

    /// <summary>The weight of <paramref name="member"/> for <paramref name="key"/>.</summary>
    public static ulong Weight(in BlockKey key, ClusterMember member)
    {
        Span<byte> input = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(input, key.Hash64);
        BinaryPrimitives.WriteUInt64LittleEndian(input[8..], member.NodeHash);
        return XxHash64.HashToUInt64(input);
    }
}
