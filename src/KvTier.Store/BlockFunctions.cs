using FASTER.core;
using KvTier.Core;

namespace KvTier.Store;

/// <summary>
/// FASTER callbacks. Every read verifies the header and the payload checksum inside the callback, copying
/// straight into the caller's buffer (no intermediate byte[]); a lend verifies the header and leaves the payload to
/// its receiver. Writes never update a record in place, so a
/// reader copying a block can never see it change underneath it.
/// </summary>
internal sealed unsafe class BlockFunctions(StoreCounters counters, PageTallies pages, TenantLedger tenants)
    : FunctionsBase<SpanByte, SpanByte, BlockInput, BlockOutput, Empty>
{
    /// <summary>
    /// The source of the put running on this thread (<see cref="BlockInput.FromSource"/>): an upsert runs its writer
    /// synchronously on the caller's thread, and an input struct cannot hold an object.
    /// </summary>
    [ThreadStatic]
    internal static IPayloadSource? Source;

    public override bool SingleReader(ref SpanByte key, ref BlockInput input, ref SpanByte value, ref BlockOutput dst, ref ReadInfo readInfo)
        => Read(ref input, ref value, ref dst, readInfo.Address);

    public override bool ConcurrentReader(ref SpanByte key, ref BlockInput input, ref SpanByte value, ref BlockOutput dst, ref ReadInfo readInfo)
        => Read(ref input, ref value, ref dst, readInfo.Address);

    private static bool Read(ref BlockInput input, ref SpanByte value, ref BlockOutput dst, long address)
    {
        dst.Address = address;
        var record = value.AsReadOnlySpan();
        if (input.Op is BlockOp.Peek or BlockOp.Protect or BlockOp.Retain or BlockOp.Lend or BlockOp.Renew)
        {
            var status = BlockHeader.TryRead(record, out dst.Header);
            if (status == BlockStatus.Ok && dst.Header.PayloadLength != record.Length - BlockHeader.Size)
            {
                status = BlockStatus.Corrupt;
            }

            dst.Status = status == BlockStatus.Ok && dst.Header.IsExpired(input.NowUnixMs) ? BlockStatus.Expired : status;
            if (input.Op == BlockOp.Lend)
            {
                // The log's pages are pinned: the record stays where it is while the lending caller holds its epoch.
                dst.Record = (byte*)value.ToPointer();
            }

            // Returning false keeps FASTER from copying a block that is not worth keeping (expired or damaged); a peek or
            // a lend (plain sessions, no copies) reports what it found.
            return input.Op is BlockOp.Peek or BlockOp.Lend || dst.Status == BlockStatus.Ok;
        }

        dst.Status = BlockHeader.VerifyAndCopy(record, new Span<byte>(dst.Destination, (int)dst.Capacity), input.NowUnixMs, out dst.Header);
        return true;
    }

    public override bool SingleWriter(ref SpanByte key, ref BlockInput input, ref SpanByte src, ref SpanByte dst, ref BlockOutput output,
        ref UpsertInfo upsertInfo, WriteReason reason)
    {
        if (reason != WriteReason.Upsert)
        {
            // Copy of an existing record (second chance to the tail, compaction): src is a real record.
            src.CopyTo(ref dst);
            if (reason == WriteReason.CopyToTail)
            {
                if (input.Op == BlockOp.Protect)
                {
                    counters.QuotaCopy();
                }
                else if (input.Op == BlockOp.Retain)
                {
                    counters.RetentionCopy();
                }
                else
                {
                    counters.SecondChance();
                }
            }

            Appended(ref key, ref input, upsertInfo.Address, dst.Length);
            return true;
        }

        // An upsert's src carries only the record length: the bytes come from the input (header + payload), so the
        // payload is copied once, from the caller's buffer into the log. (Sync upserts never copy src to the heap.)
        if (input.Op == BlockOp.Fill)
        {
            return true;
        }

        // Copy and checksum in one pass (or let the source write the record, then checksum it), then write the header
        // that carries the checksum.
        var record = dst.AsSpan();
        ulong checksum;
        if (input.FromSource)
        {
            var payload = record.Slice(BlockHeader.Size, (int)input.Header.PayloadLength);
            Source!.CopyTo(payload);
            checksum = BlockChecksum.Compute(payload);
        }
        else
        {
            checksum = BlockChecksum.CopyAndCompute(
                new ReadOnlySpan<byte>(input.Payload, (int)input.Header.PayloadLength), record[BlockHeader.Size..]);
        }
        if (input.HasExpectedChecksum && checksum != input.ExpectedChecksum)
        {
            // The sender's bytes are not the bytes it hashed: store nothing (the unlinked record is dead space).
            output.Status = BlockStatus.Corrupt;
            upsertInfo.Action = UpsertAction.CancelOperation;
            return false;
        }

        if (input.FaultOffsetPlusOne > 0)
        {
            record[BlockHeader.Size + input.FaultOffsetPlusOne - 1] ^= 0x5A;
        }

        (input.Header with { PayloadChecksum = checksum }).WriteTo(record);
        output.Status = BlockStatus.Ok;
        Appended(ref key, ref input, upsertInfo.Address, dst.Length);
        return true;
    }

    // Never overwrite in place: readers in the mutable region copy without a lock on the bytes' meaning.
    public override bool ConcurrentWriter(ref SpanByte key, ref BlockInput input, ref SpanByte src, ref SpanByte dst, ref BlockOutput output,
        ref UpsertInfo upsertInfo) => false;

    public override bool NeedInitialUpdate(ref SpanByte key, ref BlockInput input, ref BlockOutput output, ref RMWInfo rmwInfo)
    {
        output.Status = BlockStatus.NotFound;
        return false;
    }

    public override bool InPlaceUpdater(ref SpanByte key, ref BlockInput input, ref SpanByte value, ref BlockOutput output, ref RMWInfo rmwInfo)
    {
        // Only the expiry changes and the record keeps its size; FASTER's record lock orders this against readers.
        output.Address = rmwInfo.Address;
        if (CanTouch(ref input, ref value, ref output))
        {
            BlockHeader.RewriteExpiry(value.AsSpan(), input.NewExpiresUnixMs);
        }

        return true;
    }

    public override bool NeedCopyUpdate(ref SpanByte key, ref BlockInput input, ref SpanByte oldValue, ref BlockOutput output, ref RMWInfo rmwInfo)
    {
        output.Address = rmwInfo.Address; // the record being replaced: the store takes it off its tenant's count
        return CanTouch(ref input, ref oldValue, ref output);
    }

    public override bool CopyUpdater(ref SpanByte key, ref BlockInput input, ref SpanByte oldValue, ref SpanByte newValue, ref BlockOutput output,
        ref RMWInfo rmwInfo)
    {
        oldValue.CopyTo(ref newValue);
        BlockHeader.RewriteExpiry(newValue.AsSpan(), input.NewExpiresUnixMs);
        Appended(ref key, ref input, rmwInfo.Address, newValue.Length);
        return true;
    }

    private void Appended(ref SpanByte key, ref BlockInput input, long address, int length)
    {
        counters.Appended(length);
        pages.Add(address, length);
        tenants.Appended(address, input.TenantId, key.AsReadOnlySpan(), length);
    }

    private static bool CanTouch(ref BlockInput input, ref SpanByte value, ref BlockOutput output)
    {
        output.Status = BlockHeader.TryRead(value.AsReadOnlySpan(), out output.Header);
        if (output.Status == BlockStatus.Ok && output.Header.IsExpired(input.NowUnixMs))
        {
            output.Status = BlockStatus.Expired;
        }

        return output.Status == BlockStatus.Ok;
    }
}

/// <summary>Record lengths for RMW (Touch keeps the record's size).</summary>
internal readonly struct BlockValueLength : IVariableLengthStruct<SpanByte, BlockInput>
{
    public int GetInitialLength(ref BlockInput input) => sizeof(int) + BlockHeader.Size + (int)input.Header.PayloadLength;

    public int GetLength(ref SpanByte t, ref BlockInput input) => sizeof(int) + t.Length;
}
