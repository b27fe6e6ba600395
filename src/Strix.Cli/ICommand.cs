namespace Strix.Cli;

/// <summary>One <c>strix</c> sub-command (train, val, predict, export, info, data …).</summary>
public interface ICommand
{
    string Name { get; }
    string Summary { get; }
    /// <summary>Runs the command on its <c>key=value</c> words (parsed into the command's config record); returns the process exit code.</summary>
    int Run(IReadOnlyList<string> args);
}
