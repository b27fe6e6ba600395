using Strix.Distributed;
using Strix.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Strix.Engine.Strategies;

/// <summary>
/// How the <see cref="Trainer"/> spreads training over processes and devices (Lightning's Strategy):
/// which device this process uses, how the model starts identical everywhere, which share of the
/// batches this process sees, how gradients and metrics are combined, and how every process agrees on
/// when to stop. The communication backend sits behind <see cref="IProcessGroup"/> (MPI today, NCCL later).
/// <see cref="SingleDeviceStrategy"/> is the default; <see cref="DistributedDataParallelStrategy"/>
/// runs one process per device. Every hook is called on every rank at the same point of the loop.
/// </summary>
public abstract class Strategy
{
    /// <summary>The processes training together (one for <see cref="SingleDeviceStrategy"/>).</summary>
    public abstract IProcessGroup Group { get; }
    public int Rank => Group.Rank;
    public int WorldSize => Group.WorldSize;
    /// <summary>Rank 0: the only process that logs, draws plots and writes checkpoints.</summary>
    public bool IsGlobalZero => Group.Rank == 0;
    public virtual bool IsDistributed => Group.WorldSize > 1;

    /// <summary>The device this process trains on, from the user's <c>device=</c>.</summary>
    public virtual Device ResolveDevice(string? requested) => Devices.Parse(requested);

    /// <summary>After the model is on its device, before optimizers exist: make every rank's model identical.</summary>
    public virtual void SetupModel(nn.Module model) { }

    /// <summary>After a checkpoint was restored on every rank.</summary>
    public virtual void OnRestored(nn.Module model) { }

    /// <summary>This rank's training batches (every rank must get the same count).</summary>
    public virtual IBatchSource<T> TrainSource<T>(IBatchSource<T> source) => source;

    /// <summary>This rank's validation batches (a partition: each batch on exactly one rank).</summary>
    public virtual IBatchSource<T> ValSource<T>(IBatchSource<T> source) => source;

    /// <summary>Averages gradients over ranks; called before unscaling, clipping and the optimizer step.</summary>
    public virtual void ReduceGradients(IReadOnlyList<Parameter> parameters) { }

    /// <summary>For each flag: true on every rank when it is true on any rank.</summary>
    public virtual bool[] AnyRank(params bool[] local) => local;

    /// <summary>Combines logged per-batch means over ranks (sums and counts), so epoch values equal one process over all batches.</summary>
    public virtual void SyncMetrics(EpochMetrics metrics) { }

    /// <summary>Rank 0's value on every rank (decisions such as the epoch count under a time budget).</summary>
    public virtual T FromRankZero<T>(T value) => value;

    /// <summary>Waits for every rank.</summary>
    public virtual void Barrier() { }
}
