using Strix.Distributed;
using Strix.MpiHost;

// mpirun -np 2 dotnet Strix.MpiHost.dll SCENARIO [key=value ...]
// Every scenario prints "RESULT key=value" lines (rank 0) that the xunit tests parse and assert on.
var scenarios = new Dictionary<string, Func<IProcessGroup, Dictionary<string, string>, int>>(StringComparer.OrdinalIgnoreCase)
{
    ["collectives"] = CollectiveScenarios.Run,
    ["ddp"] = DdpEquivalenceScenario.Run,
    ["kill"] = FailureScenarios.KillRank,
    ["timeout"] = FailureScenarios.Timeout,
    ["crash"] = FailureScenarios.Crash,
    ["watchdog"] = FailureScenarios.Watchdog,
    ["trainer"] = TrainerScenarios.Equivalence,
    ["trainer-kill"] = TrainerScenarios.Kill,
    ["trainer-resume"] = TrainerScenarios.Resume,
    ["yolo-kill"] = YoloKillScenario.Run,
};
if (args.Length == 0 || !scenarios.TryGetValue(args[0], out var scenario))
{
    Console.Error.WriteLine($"usage: Strix.MpiHost SCENARIO [key=value ...] (one of {string.Join(", ", scenarios.Keys)})");
    return 2;
}
var options = args.Skip(1).Select(a => a.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv.Length > 1 ? kv[1] : "");

var group = ProcessGroups.FromEnvironment(options.TryGetValue("timeout", out var t) ? TimeSpan.FromSeconds(double.Parse(t, System.Globalization.CultureInfo.InvariantCulture)) : null);
int threads = CpuThreads.Apply(group);
if (group.Rank == 0) Console.WriteLine($"RESULT world={group.WorldSize} local_world={group.LocalWorldSize} threads={threads} backend={group.Backend}");
Console.Out.Flush();
int rc;
try { rc = scenario(group, options); }
catch (Exception e)
{
    // What a Strix entry point does with a failed collective: say why, then take the whole job down.
    Console.Error.WriteLine(e.StackTrace);
    group.Abort(3, $"{e.GetType().Name}: {e.Message}");
    return 3;
}
Console.Out.Flush();
group.Dispose();
return rc;
