using static TorchSharp.torch;

namespace Strix.Distributed;

/// <summary>
/// The communication backend of data-parallel training: the ranks of one job and the collectives they
/// run together. MPI implements it today (<see cref="MpiProcessGroup"/>); an NCCL group for GPUs can
/// slot in behind the same interface. Every rank must call the same collectives in the same order.
/// Collectives are bounded by <see cref="Timeout"/>: a peer that never arrives becomes a
/// <see cref="CollectiveTimeoutException"/>, never a hang.
/// </summary>
public interface IProcessGroup : IDisposable
{
    /// <summary>Backend name for logs ("mpi", "single").</summary>
    string Backend { get; }
    /// <summary>This process's rank in the job, 0 … <see cref="WorldSize"/>-1. Rank 0 is the main process.</summary>
    int Rank { get; }
    /// <summary>Number of processes in the job.</summary>
    int WorldSize { get; }
    /// <summary>Rank among the processes on this machine (selects the GPU, splits CPU threads).</summary>
    int LocalRank { get; }
    /// <summary>Number of processes on this machine.</summary>
    int LocalWorldSize { get; }
    /// <summary>Limit for each collective. <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> disables it.</summary>
    TimeSpan Timeout { get; set; }

    /// <summary>In-place sum over ranks (float32, float64, int64, int32; float16/bfloat16 through float32).</summary>
    void AllReduceSum(Tensor tensor);
    /// <summary>In place: every rank receives <paramref name="root"/>'s values. Shapes and dtypes must match.</summary>
    void Broadcast(Tensor tensor, int root = 0);
    /// <summary>Returns once every rank has arrived.</summary>
    void Barrier();
    /// <summary>Stacks every rank's tensor (same shape and dtype on all ranks): result <c>[WorldSize, …shape]</c>, rank order.</summary>
    Tensor AllGather(Tensor tensor);
    /// <summary>Concatenates every rank's tensor along dim 0, in rank order; dim 0 may differ between ranks (also 0), the other dims must not.</summary>
    Tensor AllGatherVariable(Tensor tensor);
    /// <summary>Every rank's byte payload, in rank order (lengths may differ).</summary>
    byte[][] AllGatherBytes(ReadOnlySpan<byte> data);
    /// <summary>Root's payload on every rank (other ranks' <paramref name="data"/> is ignored and may be null).</summary>
    byte[] BroadcastBytes(byte[]? data, int root = 0);
    /// <summary>Takes the whole job down with <paramref name="exitCode"/> after printing <paramref name="reason"/>. Does not return.</summary>
    void Abort(int exitCode, string reason);
}
