namespace KvTier.Server;

/// <summary>A listener of the server could not bind its address (in use, not local): names the setting to change.</summary>
public sealed class EndpointBindException : IOException
{
    /// <summary>Wraps Kestrel's bind failure for <paramref name="setting"/>.</summary>
    public EndpointBindException(ServerSetting setting, Exception inner)
        : base($"{setting.Display}: {inner?.Message}", inner)
    {
        Setting = setting;
    }

    /// <summary>The setting whose address could not be bound.</summary>
    public ServerSetting Setting { get; }
}
