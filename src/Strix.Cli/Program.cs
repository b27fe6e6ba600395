using Strix.Cli;
using Strix.Cli.Commands;

// The command table: one line per sub-command.
var commands = new ICommand[]
{
    new TrainCommand(),
    new InfoCommand(),
    new PredictCommand(),
    new TrackCommand(),
    new DataCommand(),
    new ValCommand(),
    new ExportCommand(),
    new BenchmarkCommand(),
};

if (args.Length == 0 || args[0] is "help" or "-h" or "--help")
{
    Console.WriteLine("strix — train, validate, export and run YOLO models (detect, segment, classify) in .NET\n");
    Console.WriteLine("usage: strix COMMAND key=value ...   (or strix TASK COMMAND …, e.g. strix segment train)\n");
    foreach (var c in commands) Console.WriteLine($"  {c.Name,-10} {c.Summary}");
    return args.Length == 0 ? 1 : 0;
}

// Ultralytics' task-first form: `strix segment train …` is `strix train task=segment …`.
if (Strix.Tasks.YoloTasks.IsTaskWord(args[0]))
{
    if (args.Length < 2)
    {
        Console.Error.WriteLine($"strix {args[0]}: name a command after the task, e.g. strix {args[0]} train");
        return 2;
    }
    // Training needs the task (its default data and model follow it); the other commands read it from the model.
    args = args[1].Equals("train", StringComparison.OrdinalIgnoreCase)
        ? new[] { args[1], $"task={args[0].ToLowerInvariant()}" }.Concat(args.Skip(2)).ToArray()
        : args.Skip(1).ToArray();
}

var command = commands.FirstOrDefault(c => c.Name.Equals(args[0], StringComparison.OrdinalIgnoreCase));
if (command is null)
{
    Console.Error.WriteLine($"strix: unknown command '{args[0]}'. Commands: {string.Join(", ", commands.Select(c => c.Name))}");
    return 2;
}

try
{
    return command.Run(args.Skip(1).ToList());
}
catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException or InvalidDataException or NotSupportedException)
{
    Console.Error.WriteLine($"strix {command.Name}: {e.Message}");
    if (Environment.GetEnvironmentVariable("STRIX_TRACE") == "1") Console.Error.WriteLine(e);
    return 2;
}
catch (Exception e)
{
    // A defect of ours, not of the input: still one line, with the way to the stack trace, never a core dump.
    Console.Error.WriteLine($"strix {command.Name}: unexpected {e.GetType().Name}: {e.Message}" +
        (Environment.GetEnvironmentVariable("STRIX_TRACE") == "1" ? "" : " (run with STRIX_TRACE=1 for the stack trace, and please report it)"));
    if (Environment.GetEnvironmentVariable("STRIX_TRACE") == "1") Console.Error.WriteLine(e);
    return 1;
}
