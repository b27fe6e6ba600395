using System.Diagnostics;
using Strix.Distributed;
using Strix.Engine;
using Strix.Config;
using Strix.Tasks;

namespace Strix.MpiHost;

/// <summary>
/// One process (no mpirun needed): a YOLO training run that SIGKILLs itself as the step after
/// <c>kill_after</c> begins, i.e. after the checkpoint holding that step was written and with the next
/// step's work lost, as a crash or an out-of-memory kill would. Every other option is a training
/// argument (<c>data=… model=… epochs=…</c>).
/// </summary>
public static class YoloKillScenario
{
    sealed class KillAtStep(int step) : Callback
    {
        public override void OnTrainBatchStart(Trainer trainer, StrixModule module, object? batch, int batchIdx)
        {
            if (trainer.GlobalStep < step) return;
            Console.WriteLine($"RESULT killed_at_step={trainer.GlobalStep}");
            Console.Out.Flush();
            Process.GetCurrentProcess().Kill(); // SIGKILL: no handler, no cleanup
        }
    }

    public static int Run(IProcessGroup g, Dictionary<string, string> options)
    {
        int step = int.Parse(options["kill_after"]);
        var trainArgs = options.Where(kv => kv.Key is not ("kill_after" or "timeout")).ToDictionary();
        YoloTraining.Run(ConfigRecords.Parse<TrainConfig>(trainArgs), Console.Out, new[] { new KillAtStep(step) });
        Console.WriteLine("RESULT killed_at_step=none");
        return 0;
    }
}
