using System.CommandLine;
using Grpc.Core;
using KvTier.Client;

namespace KvTier.Cli;

/// <summary>Builds the root command and turns every outcome into one stderr line and a contract exit code.</summary>
internal static class CliApp
{
    public static RootCommand CreateRoot()
    {
        var root = new RootCommand("KvTier: a shared KV-cache tier sidecar for LLM inference.");
        foreach (var create in Verbs.All)
        {
            root.Subcommands.Add(create());
        }

        return root;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var parse = CreateRoot().Parse(args);
        if (parse.Errors.Count > 0)
        {
            // System.CommandLine would exit 1 on a parse error; the contract says bad usage is 2.
            var path = new List<string>();
            for (var result = parse.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
            {
                path.Insert(0, result.Command.Name);
            }

            path[0] = "kvtier";
            await Console.Error.WriteLineAsync($"kvtier: {parse.Errors[0].Message} (see '{string.Join(' ', path)} --help')").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }).ConfigureAwait(false);
        }
        catch (UsageException e)
        {
            return Fail(ExitCodes.Usage, e.Message);
        }
        catch (BlockIntegrityException e)
        {
            return Fail(ExitCodes.Failure, e.Message);
        }
        catch (OperationCanceledException)
        {
            return Fail(ExitCodes.Failure, "cancelled");
        }
        catch (RpcException e)
        {
            // Verbs map their own calls (FromRpc, with the address); this keeps any other call from ending in a dump.
            return Fail(ExitCodes.Failure, $"a call failed: {e.StatusCode}: {Innermost(e)}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fail(ExitCodes.Failure, e.Message);
        }
    }

    /// <summary>Maps a failed call to the contract's exit code, with the server's own message.</summary>
    public static int FromRpc(RpcException e, Uri address)
    {
        var server = address.GetLeftPart(UriPartial.Authority);
        if (Find<System.Security.Authentication.AuthenticationException>(e.Status.DebugException) is { } tls)
        {
            // A handshake that fails on the certificate wants a CA; one that fails on framing met a server without TLS.
            return Fail(ExitCodes.Failure, tls.Message.Contains("certificate", StringComparison.OrdinalIgnoreCase)
                ? $"could not verify {server}'s TLS certificate: {tls.Message} Give --ca-file FILE (or KVTIER_CA_FILE) with the PEM certificate of its CA, or the certificate itself."
                : $"the TLS handshake with {server} failed: {tls.Message} If that node runs without --tls-cert, use http://{address.Authority} instead.");
        }

        // A TLS node hangs up on a plaintext HTTP/2 preface without a word: the call fails as Unavailable or Internal.
        var tlsHint = address.Scheme == Uri.UriSchemeHttp && NoHttp2Answer(e.Status.DebugException)
            ? $" If it serves TLS (--tls-cert), use https://{address.Authority}."
            : "";
        return e.StatusCode switch
        {
            StatusCode.NotFound => Fail(ExitCodes.NotFound, e.Status.Detail),
            StatusCode.InvalidArgument or StatusCode.ResourceExhausted or StatusCode.DataLoss or StatusCode.OutOfRange
                or StatusCode.FailedPrecondition => Fail(ExitCodes.Usage, $"{server} refused the request: {e.Status.Detail}"),
            StatusCode.Unauthenticated or StatusCode.PermissionDenied =>
                Fail(ExitCodes.Usage, $"{server} refused the credentials: {e.Status.Detail}"
                    + (e.Status.Detail.Contains("KVTIER_API_KEY", StringComparison.Ordinal) ? "" : " (set --api-key or KVTIER_API_KEY)")),
            StatusCode.Unavailable =>
                Fail(ExitCodes.Failure, $"could not reach {server}: {Innermost(e)}; is 'kvtier serve' running there?{tlsHint}"),
            _ => Fail(ExitCodes.Failure, $"{server} failed the request: {e.StatusCode} {e.Status.Detail}{tlsHint}"),
        };
    }

    public static int Fail(int code, string message)
    {
        // One line: scripts and people read the first line of stderr.
        Console.Error.WriteLine("kvtier: " + message.ReplaceLineEndings(" "));
        return code;
    }

    // The connection closed before the server's HTTP/2 preface: .NET reports it as the response ending, an invalid
    // response or an unfinished handshake, depending on when the close is seen.
    private static bool NoHttp2Answer(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            var error = e switch
            {
                HttpIOException io => io.HttpRequestError,
                HttpRequestException request => request.HttpRequestError,
                _ => (HttpRequestError?)null,
            };
            if (error is HttpRequestError.ResponseEnded or HttpRequestError.InvalidResponse
                || (error is not null && e.Message.Contains("HTTP/2 handshake", StringComparison.Ordinal)))
            {
                return true;
            }
        }

        return false;
    }

    private static T? Find<T>(Exception? e)
        where T : Exception
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is T found)
            {
                return found;
            }
        }

        return null;
    }

    private static string Innermost(RpcException e)
    {
        Exception? inner = e.Status.DebugException;
        while (inner?.InnerException is not null)
        {
            inner = inner.InnerException;
        }

        return inner?.Message ?? e.Status.Detail;
    }
}
