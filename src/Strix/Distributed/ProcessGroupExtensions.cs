using Strix.Runtime;
using TorchSharp;
using System.Text.Json;
using static TorchSharp.torch;

namespace Strix.Distributed;

/// <summary>Conveniences over <see cref="IProcessGroup"/>'s collectives.</summary>
public static class ProcessGroupExtensions
{
    /// <summary>Rank 0: the process that logs, plots, saves checkpoints and keeps the EMA.</summary>
    public static bool IsMain(this IProcessGroup group) => group.Rank == 0;

    /// <summary>In-place mean over ranks (sum, then divide by the world size).</summary>
    public static void AllReduceMean(this IProcessGroup group, Tensor tensor)
    {
        group.AllReduceSum(tensor);
        if (group.WorldSize > 1)
            using (no_grad())
            using (var worldSize = group.WorldSize.ToScalar())
                tensor.div_(worldSize);
    }

    /// <summary>Sum of one number over ranks (float64). (Not an <c>AllReduceSum</c> overload: TorchSharp converts numbers to tensors implicitly.)</summary>
    public static double SumAcrossRanks(this IProcessGroup group, double value)
    {
        using var t = tensor(new[] { value });
        group.AllReduceSum(t);
        return t.item<double>();
    }

    /// <summary>Sum of one count over ranks.</summary>
    public static long SumAcrossRanks(this IProcessGroup group, long value)
    {
        using var t = tensor(new[] { value });
        group.AllReduceSum(t);
        return t.item<long>();
    }

    /// <summary>
    /// Every rank's <paramref name="value"/> in rank order, through JSON — for small per-rank records
    /// such as validation counters, speeds or file lists (tensors go through <see cref="IProcessGroup.AllGatherVariable"/>).
    /// </summary>
    public static T[] GatherObjects<T>(this IProcessGroup group, T value, JsonSerializerOptions? options = null)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(value, options);
        var all = group.AllGatherBytes(payload);
        return all.Select((b, r) => JsonSerializer.Deserialize<T>(b, options)
            ?? throw new InvalidDataException($"rank {r} sent a null {typeof(T).Name}")).ToArray();
    }

    /// <summary>Root's <paramref name="value"/> on every rank, through JSON (e.g. the run directory chosen by rank 0).</summary>
    public static T BroadcastObject<T>(this IProcessGroup group, T? value, int root = 0, JsonSerializerOptions? options = null)
    {
        var payload = group.Rank == root ? JsonSerializer.SerializeToUtf8Bytes(value, options) : null;
        var bytes = group.BroadcastBytes(payload, root);
        return JsonSerializer.Deserialize<T>(bytes, options) ?? throw new InvalidDataException($"rank {root} broadcast a null {typeof(T).Name}");
    }

    /// <summary>
    /// Runs <paramref name="action"/> on rank 0 first while the others wait, then on the others — e.g.
    /// building a dataset cache once (Ultralytics' torch_distributed_zero_first).
    /// </summary>
    public static void MainFirst(this IProcessGroup group, Action action)
    {
        if (group.IsMain()) action();
        group.Barrier();
        if (!group.IsMain()) action();
        group.Barrier();
    }
}
