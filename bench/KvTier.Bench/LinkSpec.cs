using System.Globalization;
using System.Text.RegularExpressions;
using KvTier.Policy;

namespace KvTier.Bench;

/// <summary>
/// A network link to emulate between a peer data-plane client and server on loopback (<c>--link</c>): a line rate and
/// a round trip, or <c>local</c> (plain loopback, no shaping). Forms: <c>local</c>, <c>Ngbit</c> or <c>Nmbit</c>
/// (N may have decimals: <c>10gbit</c>, <c>25gbit</c>, <c>40gbit</c>, <c>100gbit</c>, <c>2.5gbit</c>, <c>500mbit</c>),
/// optionally followed by <c>:rtt=200us</c> or <c>:rtt=1ms</c> (<c>µs</c> also accepted).
/// </summary>
/// <remarks>
/// Default round trips are typical same-datacenter TCP RTTs between two hosts (kernel stacks, one or two switch hops,
/// no RDMA): 200 µs on 10 Gbit/s (and slower) links, 100 µs on 25–40 Gbit/s, 50 µs on 100 Gbit/s and faster.
/// </remarks>
public sealed partial record LinkSpec
{
    /// <summary>Token-bucket burst of the shaper: 64 KiB may leave back to back, the rest is paced at the rate.</summary>
    public const int DefaultBurstBytes = 64 << 10;

    /// <summary>What <c>--link</c> accepts, for messages.</summary>
    public const string AcceptedForms =
        "local, or a rate such as 10gbit, 25gbit, 40gbit, 100gbit (any Ngbit or Nmbit), optionally followed by :rtt=200us or :rtt=1ms";

    private LinkSpec(string text, double bitsPerSecond, TimeSpan rtt)
    {
        Text = text;
        BitsPerSecond = bitsPerSecond;
        Rtt = rtt;
    }

    /// <summary>Plain loopback: no proxy, no shaping.</summary>
    public static LinkSpec Local { get; } = new("local", 0, TimeSpan.Zero);

    /// <summary>The canonical text: <c>local</c>, or e.g. <c>25gbit:rtt=100us</c>.</summary>
    public string Text { get; }

    /// <summary>True for <c>local</c>: the client talks to the server directly.</summary>
    public bool IsLocal => BitsPerSecond == 0;

    /// <summary>Line rate in bits per second (0 for local).</summary>
    public double BitsPerSecond { get; }

    /// <summary>Line rate in payload bytes per second (0 for local).</summary>
    public double BytesPerSecond => BitsPerSecond / 8;

    /// <summary>Round trip the link adds: half of it each way (zero for local).</summary>
    public TimeSpan Rtt { get; }

    /// <summary>Delay the shaper adds to every chunk in each direction: RTT / 2.</summary>
    public TimeSpan OneWayDelay => Rtt / 2;

    /// <summary>Token-bucket burst in bytes (<see cref="DefaultBurstBytes"/>).</summary>
    public int BurstBytes => DefaultBurstBytes;

    /// <summary>A shaped link of <paramref name="bitsPerSecond"/> with <paramref name="rtt"/>, or the default RTT for its rate.</summary>
    public static LinkSpec Of(double bitsPerSecond, TimeSpan? rtt = null)
    {
        if (!(bitsPerSecond > 0) || double.IsInfinity(bitsPerSecond))
        {
            throw new ArgumentOutOfRangeException(nameof(bitsPerSecond), bitsPerSecond, "a link rate must be a positive, finite number of bits per second.");
        }

        var roundTrip = rtt ?? DefaultRtt(bitsPerSecond);
        if (roundTrip < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(rtt), rtt, "a round trip must not be negative.");
        }

        return new LinkSpec(Format(bitsPerSecond, roundTrip), bitsPerSecond, roundTrip);
    }

    /// <summary>Parses <c>--link</c> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">Not a link; the message names the value and the accepted forms.</exception>
    public static LinkSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        if (string.Equals(trimmed, "local", StringComparison.OrdinalIgnoreCase))
        {
            return Local;
        }

        var match = Pattern().Match(trimmed);
        if (!match.Success
            || !double.TryParse(match.Groups["rate"].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var rate)
            || !(rate > 0))
        {
            throw Bad(text);
        }

        var bits = rate * (match.Groups["unit"].Value.Equals("g", StringComparison.OrdinalIgnoreCase) ? 1e9 : 1e6);
        TimeSpan? rtt = null;
        if (match.Groups["rtt"].Success)
        {
            if (!double.TryParse(match.Groups["rtt"].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
            {
                throw Bad(text);
            }

            rtt = match.Groups["rttunit"].Value.Equals("ms", StringComparison.OrdinalIgnoreCase)
                ? TimeSpan.FromMilliseconds(value)
                : TimeSpan.FromMicroseconds(value);
        }

        return Of(bits, rtt);
    }

    /// <summary>
    /// The round trip assumed when <c>:rtt=</c> is not given: 200 µs up to 10 Gbit/s, 100 µs up to 40 Gbit/s, 50 µs
    /// above (typical same-datacenter TCP RTTs for hosts on such links).
    /// </summary>
    public static TimeSpan DefaultRtt(double bitsPerSecond) => bitsPerSecond switch
    {
        <= 10e9 => TimeSpan.FromMicroseconds(200),
        <= 40e9 => TimeSpan.FromMicroseconds(100),
        _ => TimeSpan.FromMicroseconds(50),
    };

    /// <summary>
    /// The policy's prior for this nominal link: the policy's own per-request setup (<see cref="LinkPrior.Peer"/>'s),
    /// this link's RTT and line rate. <c>local</c> has no nominal rate: it gets the policy's default peer prior, the
    /// cost the planner assumes for a peer it has not measured.
    /// </summary>
    public LinkPrior ToPrior() => IsLocal ? LinkPrior.Peer : new LinkPrior(LinkPrior.Peer.Setup, Rtt, BytesPerSecond);

    /// <inheritdoc/>
    public override string ToString() => Text;

    private static ArgumentException Bad(string text) =>
        new($"--link '{text}' is not a link: use {AcceptedForms}."); // no parameter name: the message is shown to users as is

    private static string Format(double bits, TimeSpan rtt)
    {
        var c = CultureInfo.InvariantCulture;
        var rate = bits >= 1e9 ? string.Create(c, $"{bits / 1e9:0.###}gbit") : string.Create(c, $"{bits / 1e6:0.###}mbit");
        var us = rtt.TotalMicroseconds;
        var delay = us >= 1000 && us % 1000 == 0 ? string.Create(c, $"{us / 1000:0}ms") : string.Create(c, $"{us:0.###}us");
        return $"{rate}:rtt={delay}";
    }

    [GeneratedRegex(@"^(?<rate>[0-9]+(\.[0-9]+)?)\s*(?<unit>[gm])bit(/s)?(:rtt=(?<rtt>[0-9]+(\.[0-9]+)?)(?<rttunit>us|µs|ms))?$",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
