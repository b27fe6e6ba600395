namespace Strix.Cli;

/// <summary>One <c>strix</c> sub-command (train, val, predict, export, info, data …).</summary>
public interface ICommand
{
    string Name { get; }
    string Summary { get; }
    /// <summary>Runs the command; returns the process exit code.</summary>
    int Run(CliArgs args);
}
