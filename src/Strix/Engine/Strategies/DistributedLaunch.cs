using Strix.Distributed;

namespace Strix.Engine.Strategies;

/// <summary>
/// The entry-point wrapper that makes <c>mpirun -np N strix train …</c> just work: it starts MPI when a
/// launcher started this process as one of several ranks (else runs single-process with no MPI at all),
/// hands the matching <see cref="Strategy"/> to the command, and guarantees the job ends: any exception
/// on any rank prints its message and aborts the whole job (MPI_Abort, every rank exits non-zero) instead
/// of leaving the other ranks waiting; a normal return finalises MPI after a bounded barrier.
/// </summary>
public static class DistributedLaunch
{
    /// <param name="body">The command; receives <see cref="SingleDeviceStrategy"/> or a <see cref="DistributedDataParallelStrategy"/>.</param>
    /// <param name="timeout">Collective limit (default <see cref="MpiProcessGroup.DefaultTimeout"/>: 30 min or STRIX_DIST_TIMEOUT).</param>
    public static int Run(Func<Strategy, int> body, TimeSpan? timeout = null)
    {
        var group = ProcessGroups.FromEnvironment(timeout);
        if (group.WorldSize == 1)
        {
            try { return body(SingleDeviceStrategy.Instance); }
            finally { group.Dispose(); }
        }
        int rc;
        try { rc = body(new DistributedDataParallelStrategy(group)); }
        catch (Exception e)
        {
            group.Abort(1, $"{e.GetType().Name}: {e.Message}"); // does not return
            throw;
        }
        group.Dispose();
        return rc;
    }
}
