using System.Diagnostics;
using Strix.Distributed;
using static TorchSharp.torch;

namespace Strix.MpiHost;

/// <summary>A rank dies or stalls mid-collective: the survivors must exit non-zero, quickly, with a clear message.</summary>
static class FailureScenarios
{
    /// <summary>Rank 1 SIGKILLs itself while rank 0 is inside an all-reduce loop.</summary>
    public static int KillRank(IProcessGroup g, Dictionary<string, string> options)
    {
        using var t = ones(1000);
        for (int i = 0; i < 10_000; i++)
        {
            if (g.Rank == 1 && i == 20)
            {
                Console.Error.WriteLine($"rank 1: killing myself (SIGKILL) at step {i}");
                Console.Error.Flush();
                Process.GetCurrentProcess().Kill();
            }
            g.AllReduceSum(t);
            t.fill_(1);
            Thread.Sleep(10);
        }
        Console.WriteLine("RESULT survived=true"); // must never be reached
        return 0;
    }

    /// <summary>Rank 1 never joins the all-reduce: rank 0's collective must time out and abort the job.</summary>
    public static int Timeout(IProcessGroup g, Dictionary<string, string> options)
    {
        g.Barrier();
        if (g.Rank == 1)
        {
            Thread.Sleep(TimeSpan.FromSeconds(120)); // "stuck" (e.g. in a data loader)
            return 0;
        }
        using var t = ones(1000);
        g.AllReduceSum(t);
        Console.WriteLine("RESULT survived=true");
        return 0;
    }

    /// <summary>Rank 1 dies of an unhandled .NET exception on a worker thread while rank 0 waits at a barrier.</summary>
    public static int Crash(IProcessGroup g, Dictionary<string, string> options)
    {
        g.Barrier();
        if (g.Rank == 1)
        {
            var worker = new Thread(() => throw new InvalidOperationException("simulated data-loader crash on rank 1"));
            worker.Start();
            worker.Join();
            Thread.Sleep(TimeSpan.FromSeconds(120));
            return 0;
        }
        g.Barrier();
        Console.WriteLine("RESULT survived=true");
        return 0;
    }

    /// <summary>Rank 0 is "stuck inside a blocking MPI call" past the watchdog's limit; rank 1 waits at a barrier.</summary>
    public static int Watchdog(IProcessGroup g, Dictionary<string, string> options)
    {
        g.Barrier();
        if (g.Rank == 0)
        {
            using var armed = CollectiveWatchdog.Arm("simulated blocking all-reduce", TimeSpan.FromSeconds(2), g.Rank, g.WorldSize);
            Thread.Sleep(TimeSpan.FromSeconds(120));
        }
        g.Barrier();
        Console.WriteLine("RESULT survived=true");
        return 0;
    }
}
