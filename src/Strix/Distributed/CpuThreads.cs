using TorchSharp;

namespace Strix.Distributed;

/// <summary>
/// Shares the machine's cores among the ranks that run on it: each rank gets
/// <c>cores / localWorldSize</c> intra-op threads (at least 1), capped by the cores the launcher bound
/// it to (mpirun binds to cores by default for up to 2 ranks). <c>OMP_NUM_THREADS</c>, when set, wins.
/// Without this every rank would start one thread per core and N ranks would oversubscribe N-fold.
/// </summary>
public static class CpuThreads
{
    /// <summary>Threads for one of <paramref name="localWorldSize"/> ranks: min(available, online / local), at least 1.</summary>
    public static int PerRank(int localWorldSize, int availableCores, int onlineCores)
    {
        if (localWorldSize < 1) throw new ArgumentOutOfRangeException(nameof(localWorldSize));
        int share = Math.Max(1, Math.Max(onlineCores, availableCores) / localWorldSize);
        return Math.Max(1, Math.Min(availableCores, share));
    }

    /// <summary>Cores online on this machine (not only those this process may use).</summary>
    public static int OnlineCores()
    {
        try
        {
            var text = File.ReadAllText("/sys/devices/system/cpu/online").Trim(); // e.g. "0-15" or "0,2-7"
            int n = 0;
            foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                var ab = part.Split('-');
                n += ab.Length == 2 ? int.Parse(ab[1]) - int.Parse(ab[0]) + 1 : 1;
            }
            return n > 0 ? n : Environment.ProcessorCount;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { return Environment.ProcessorCount; }
    }

    /// <summary>
    /// Sets torch's intra-op threads for this rank and returns the count (unchanged when
    /// <c>OMP_NUM_THREADS</c> is set or the group has one local rank).
    /// </summary>
    public static int Apply(IProcessGroup group)
    {
        if (!string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("OMP_NUM_THREADS")) || group.LocalWorldSize <= 1)
            return torch.get_num_threads();
        int n = PerRank(group.LocalWorldSize, Environment.ProcessorCount, OnlineCores());
        torch.set_num_threads(n);
        return n;
    }
}
