namespace Strix.Distributed;

/// <summary>Chooses the process group for this process from how it was launched.</summary>
public static class ProcessGroups
{
    /// <summary>
    /// <see cref="MpiProcessGroup"/> when a launcher (mpirun, srun, Hydra, PMIx) started this process
    /// as part of a multi-rank job, else <see cref="SingleProcessGroup"/>. Fails with install advice when
    /// launched under MPI but the Open MPI library cannot be loaded — never silently trains alone.
    /// </summary>
    public static IProcessGroup FromEnvironment(TimeSpan? timeout = null)
    {
        var launch = LaunchEnvironment.Detect();
        if (!launch.IsDistributed) return SingleProcessGroup.Instance;
        if (!Mpi.MpiNative.TryEnsureLoaded(out var error))
            throw new InvalidOperationException($"this process was started by {launch.Launcher} as one of {launch.WorldSize?.ToString() ?? "several"} ranks, but MPI is unavailable: {error}");
        return MpiProcessGroup.Initialize(timeout);
    }
}
