using Microsoft.Extensions.Logging;

namespace KvTier.Server.Tests;

/// <summary>Keeps every log entry, for tests that check what a server said.</summary>
internal sealed class ListLoggerProvider : ILoggerProvider
{
    public List<(LogLevel Level, int EventId, string Message)> Entries { get; } = [];

    public ILogger CreateLogger(string categoryName) => new ListLogger(this);

    public void Dispose()
    {
    }

    private sealed class ListLogger(ListLoggerProvider owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (owner.Entries)
            {
                owner.Entries.Add((logLevel, eventId.Id, formatter(state, exception)));
            }
        }
    }
}
