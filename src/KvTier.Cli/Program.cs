using KvTier.Cli;

return await CliApp.RunAsync(args).ConfigureAwait(false);
