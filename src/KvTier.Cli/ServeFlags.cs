using System.CommandLine;
using KvTier.Server;

namespace KvTier.Cli;

/// <summary>
/// The server settings as flags (one per <see cref="ServerSetting"/>, named as in DESIGN.md) plus <c>--config</c>;
/// shared by <c>serve</c> and <c>config print</c> so both see the same effective configuration.
/// </summary>
internal sealed class ServeFlags
{
    private readonly Option<string?> _config = new("--config")
    {
        Description = $"JSON file with a \"{ServerOptions.SectionName}\" section (read after appsettings.json, before {ServerOptionsBinder.EnvironmentPrefix}* variables and flags).",
    };

    private readonly List<(ServerSetting Setting, Option<string?> Option)> _settings = [];

    public ServeFlags(Command command)
    {
        // Maps (API keys, quotas) have no flag: keys on a command line would show in every process listing.
        foreach (var setting in ServerSetting.All.Where(s => s.Flag is not null))
        {
            var option = new Option<string?>(setting.Flag!) { Description = setting.Description };
            _settings.Add((setting, option));
            command.Options.Add(option);
        }

        command.Options.Add(_config);
    }

    /// <summary>File, then environment, then flags; validated. Bad settings are usage errors (exit 2).</summary>
    public ServerOptions Bind(ParseResult parse)
    {
        var flags = _settings.ToDictionary(s => s.Setting.Name, s => parse.GetValue(s.Option));
        try
        {
            var options = ServerOptionsBinder.Bind(parse.GetValue(_config), flags);
            options.Validate();
            return options;
        }
        catch (ArgumentException e)
        {
            throw UsageException.From(e);
        }
    }
}
