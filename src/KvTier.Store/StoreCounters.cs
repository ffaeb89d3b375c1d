namespace KvTier.Store;

/// <summary>Lock-free counters shared by the store and its FASTER callbacks.</summary>
internal sealed class StoreCounters
{
    private long _hits, _misses, _puts, _putBytes, _getBytes, _appended, _appendedBytes, _evictedDram, _evictedDramBytes,
        _evictedSsd, _ttl, _deleted, _corrupt, _secondChance, _quotaCopies, _retentionCopies, _scrubbed;

    public long Hits => Volatile.Read(ref _hits);
    public long Misses => Volatile.Read(ref _misses);
    public long Puts => Volatile.Read(ref _puts);
    public long PutBytes => Volatile.Read(ref _putBytes);
    public long GetBytes => Volatile.Read(ref _getBytes);
    public long AppendedRecords => Volatile.Read(ref _appended);
    public long AppendedBytes => Volatile.Read(ref _appendedBytes);
    public long EvictedFromDram => Volatile.Read(ref _evictedDram);
    public long EvictedFromDramBytes => Volatile.Read(ref _evictedDramBytes);
    public long EvictedFromSsd => Volatile.Read(ref _evictedSsd);
    public long Ttl => Volatile.Read(ref _ttl);
    public long Deleted => Volatile.Read(ref _deleted);
    public long Corrupt => Volatile.Read(ref _corrupt);
    public long SecondChanceCopies => Volatile.Read(ref _secondChance);
    public long QuotaCopies => Volatile.Read(ref _quotaCopies);
    public long RetentionCopies => Volatile.Read(ref _retentionCopies);

    public void Hit(long bytes)
    {
        Interlocked.Increment(ref _hits);
        Interlocked.Add(ref _getBytes, bytes);
    }

    public void Miss() => Interlocked.Increment(ref _misses);
    public void Appended(long bytes)
    {
        Interlocked.Increment(ref _appended);
        Interlocked.Add(ref _appendedBytes, bytes);
    }

    public void SecondChance() => Interlocked.Increment(ref _secondChance);
    public void QuotaCopy() => Interlocked.Increment(ref _quotaCopies);
    public void RetentionCopy() => Interlocked.Increment(ref _retentionCopies);
    public void Expired() => Interlocked.Increment(ref _ttl);
    public void Deletion() => Interlocked.Increment(ref _deleted);
    public void Corruption() => Interlocked.Increment(ref _corrupt);

    public void Scrubbed(long bytes) => Interlocked.Add(ref _scrubbed, bytes);

    public long ScrubbedBytes => Volatile.Read(ref _scrubbed);

    public void Put(long bytes)
    {
        Interlocked.Increment(ref _puts);
        Interlocked.Add(ref _putBytes, bytes);
    }

    public void LeftDram(long records, long bytes)
    {
        Interlocked.Add(ref _evictedDram, records);
        Interlocked.Add(ref _evictedDramBytes, bytes);
    }

    public void LeftSsd(long records) => Interlocked.Add(ref _evictedSsd, records);
}
