namespace Strix.Distributed;

/// <summary>
/// A collective did not complete in time: a peer rank died, hangs, or is not calling the same
/// collective. The process group is unusable afterwards; disposing it takes the whole job down
/// (MPI_Abort), so every rank exits non-zero instead of waiting forever.
/// </summary>
public sealed class CollectiveTimeoutException : TimeoutException
{
    /// <summary>The MPI call that was waiting, e.g. <c>MPI_Iallreduce</c>.</summary>
    public string Call { get; }
    public TimeSpan Timeout { get; }
    public int Rank { get; }

    public CollectiveTimeoutException(string call, string what, TimeSpan timeout, int rank, int worldSize)
        : base($"{what} ({call}) timed out after {timeout.TotalSeconds:0.#} s on rank {rank} of {worldSize}: " +
               "another rank died, hangs, or is not calling the same collective. The job will be aborted " +
               "(raise the limit with STRIX_DIST_TIMEOUT=<seconds> if a rank legitimately needs longer).")
    {
        Call = call;
        Timeout = timeout;
        Rank = rank;
    }
}
