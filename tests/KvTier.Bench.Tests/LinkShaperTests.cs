using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using KvTier.Policy;

namespace KvTier.Bench.Tests;

public sealed class LinkShaperTests
{
    [Fact]
    public async Task The_proxy_forwards_8_MiB_intact_both_ways()
    {
        var up = RandomBytes(8 << 20, seed: 1);
        var down = RandomBytes(8 << 20, seed: 2);
        using var listener = Listen();
        await using var proxy = new LinkShaperProxy((IPEndPoint)listener.LocalEndPoint!, LinkSpec.Parse("10gbit"));

        // The target reads everything the client sends while it sends its own bytes back.
        var target = Task.Run(async () =>
        {
            using var socket = await listener.AcceptAsync();
            var send = socket.SendAsync(down, SocketFlags.None);
            var received = await ReceiveAll(socket, up.Length);
            await send;
            socket.Shutdown(SocketShutdown.Send);
            return received;
        });
        using var client = await Connect(proxy.Endpoint);
        var sent = client.SendAsync(up, SocketFlags.None);
        var back = await ReceiveAll(client, down.Length).WaitAsync(TimeSpan.FromSeconds(60));
        await sent;
        client.Shutdown(SocketShutdown.Send);
        var atTarget = await target.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(up.AsSpan().SequenceEqual(atTarget), "the bytes the target received differ from those sent");
        Assert.True(down.AsSpan().SequenceEqual(back), "the bytes the client received differ from those the target sent");
        Assert.Equal(up.Length, proxy.BytesToTarget);
        Assert.Equal(down.Length, proxy.BytesFromTarget);
    }

    [Fact]
    public async Task Throughput_through_a_1gbit_link_never_exceeds_the_rate()
    {
        const int bytes = 64 << 20;
        var link = LinkSpec.Parse("1gbit");
        using var listener = Listen();
        await using var proxy = new LinkShaperProxy((IPEndPoint)listener.LocalEndPoint!, link);
        var payload = RandomBytes(bytes, seed: 3);
        var target = Task.Run(async () =>
        {
            using var socket = await listener.AcceptAsync();
            await ReceiveAll(socket, 1); // the request
            await socket.SendAsync(payload, SocketFlags.None);
            socket.Shutdown(SocketShutdown.Send);
        });
        using var client = await Connect(proxy.Endpoint);

        var watch = Stopwatch.StartNew();
        await client.SendAsync(new byte[1], SocketFlags.None);
        var received = await ReceiveAll(client, bytes).WaitAsync(TimeSpan.FromSeconds(60));
        var elapsed = watch.Elapsed;
        await target.WaitAsync(TimeSpan.FromSeconds(60));

        // A correctness bound of the shaper, not a speed claim: it cannot let bytes through faster than its bucket.
        var bytesPerSecond = bytes / elapsed.TotalSeconds;
        Assert.Equal(bytes, received.Length);
        Assert.True(bytesPerSecond <= link.BytesPerSecond * 1.1,
            $"{bytesPerSecond / 1e6:0.0} MB/s through a link of {link.BytesPerSecond / 1e6:0.0} MB/s ({elapsed.TotalMilliseconds:0} ms for {bytes >> 20} MiB)");
    }

    [Fact]
    public async Task A_request_and_its_response_take_at_least_one_rtt()
    {
        var link = LinkSpec.Parse("10gbit:rtt=2ms");
        using var listener = Listen();
        await using var proxy = new LinkShaperProxy((IPEndPoint)listener.LocalEndPoint!, link);
        var target = Task.Run(async () =>
        {
            using var socket = await listener.AcceptAsync();
            var one = new byte[1];
            while (await socket.ReceiveAsync(one, SocketFlags.None) == 1)
            {
                await socket.SendAsync(one, SocketFlags.None);
            }
        });
        using var client = await Connect(proxy.Endpoint);
        var ping = new byte[1];
        var fastest = TimeSpan.MaxValue;
        for (var i = 0; i < 10; i++)
        {
            var watch = Stopwatch.StartNew();
            await client.SendAsync(ping, SocketFlags.None);
            Assert.Equal(1, await client.ReceiveAsync(ping, SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(10)));
            fastest = watch.Elapsed < fastest ? watch.Elapsed : fastest;
        }

        client.Shutdown(SocketShutdown.Send);
        await target.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(fastest >= link.Rtt, $"a 1-byte round trip took {fastest.TotalMilliseconds:0.000} ms through a link with a {link.Rtt.TotalMilliseconds} ms rtt");
    }

    [Fact]
    public void The_bucket_lets_a_burst_through_then_paces_at_the_rate()
    {
        // 1 MB/s, 64 KiB burst, 1 KiB chunks all offered at time 0.
        var bucket = new LinkShaperBucket(1e6, 64 << 10);
        var leave = Enumerable.Range(0, 256).Select(_ => bucket.Depart(1024, now: 0)).ToArray();

        Assert.All(leave.Take(64), t => Assert.Equal(0, t));
        Assert.True(leave[64] > 0);
        Assert.Equal(leave, leave.Order());
        for (var i = 0; i < leave.Length; i++)
        {
            // Bytes out by each departure: never more than the burst plus the rate times the time passed.
            var seconds = (double)leave[i] / Stopwatch.Frequency;
            Assert.True((i + 1) * 1024 <= (64 << 10) + (1e6 * seconds) + 1, $"chunk {i} left at {seconds * 1e3:0.000} ms");
        }

        // 192 KiB past the burst at 1 MB/s: the last chunk leaves about 196.6 ms in.
        Assert.InRange((double)leave[^1] / Stopwatch.Frequency, 0.196, 0.197);
    }

    [Theory]
    [InlineData("10gbit", 10e9, 200)]
    [InlineData("25GBIT", 25e9, 100)]
    [InlineData("40gbit", 40e9, 100)]
    [InlineData("100gbit", 100e9, 50)]
    [InlineData("25gbit:rtt=1ms", 25e9, 1000)]
    [InlineData("2.5gbit:rtt=350us", 2.5e9, 350)]
    [InlineData("500mbit:rtt=80µs", 500e6, 80)]
    public void Link_specs_parse_with_their_default_or_given_rtt(string text, double bits, double rttMicroseconds)
    {
        var link = LinkSpec.Parse(text);

        Assert.False(link.IsLocal);
        Assert.Equal(bits, link.BitsPerSecond);
        Assert.Equal(rttMicroseconds, link.Rtt.TotalMicroseconds, 6);
        Assert.Equal(link, LinkSpec.Parse(link.Text)); // the canonical text reads back
    }

    [Fact]
    public void Local_is_no_link_and_predicts_with_the_policys_default_peer_prior()
    {
        var local = LinkSpec.Parse("local");

        Assert.True(local.IsLocal);
        Assert.Equal(LinkPrior.Peer, local.ToPrior());
        Assert.Throws<ArgumentException>(() => new LinkShaperProxy(new IPEndPoint(IPAddress.Loopback, 1), local));
    }

    [Fact]
    public void The_prior_of_a_link_is_its_rate_and_rtt_with_the_policys_setup()
    {
        var prior = LinkSpec.Parse("25gbit").ToPrior();

        Assert.Equal(3.125e9, prior.BandwidthBytesPerSecond);
        Assert.Equal(TimeSpan.FromMicroseconds(100), prior.Rtt);
        Assert.Equal(LinkPrior.Peer.Setup, prior.Setup);
    }

    [Theory]
    [InlineData("7furlongs")]
    [InlineData("10gbit:rtt=soon")]
    [InlineData("0gbit")]
    [InlineData("10 gigabit")]
    [InlineData("")]
    public void A_bad_link_is_refused_naming_the_value_and_the_accepted_forms(string text)
    {
        var ex = Assert.Throws<ArgumentException>(() => LinkSpec.Parse(text));

        Assert.Contains($"'{text}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("local", ex.Message, StringComparison.Ordinal);
        Assert.Contains("25gbit", ex.Message, StringComparison.Ordinal);
        Assert.Contains(":rtt=1ms", ex.Message, StringComparison.Ordinal);
    }

    private static Socket Listen()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(4);
        return listener;
    }

    private static async Task<Socket> Connect(IPEndPoint endpoint)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endpoint);
        return socket;
    }

    private static async Task<byte[]> ReceiveAll(Socket socket, int length)
    {
        var buffer = new byte[length];
        for (var filled = 0; filled < length;)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None);
            if (n == 0)
            {
                throw new EndOfStreamException($"the stream ended after {filled} of {length} bytes");
            }

            filled += n;
        }

        return buffer;
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
