namespace Strix.Distributed;

/// <summary>
/// What the launcher told this process through environment variables: <c>mpirun</c> (Open MPI),
/// <c>srun</c> (Slurm), Hydra (MPICH / Intel MPI) or PMIx. Used to decide whether to start MPI at all
/// and to cross-check what MPI reports (a world of 1 under a launcher that started 4 ranks means the
/// MPI library was not wired to the launcher — e.g. <c>srun</c> without <c>--mpi=pmix</c>).
/// </summary>
public sealed record LaunchEnvironment(string Launcher, int? WorldSize, int? Rank, int? LocalRank, int? LocalWorldSize)
{
    /// <summary>No launcher variables: a plain process.</summary>
    public static LaunchEnvironment None { get; } = new("none", null, null, null, null);

    /// <summary>True when a launcher started more than one rank (or PMIx says we are part of a job).</summary>
    public bool IsDistributed => (WorldSize ?? 1) > 1 || (Launcher == "pmix" && WorldSize is null);

    /// <summary>Reads the current process's environment.</summary>
    public static LaunchEnvironment Detect() => Detect(Environment.GetEnvironmentVariable);

    /// <summary>Reads variables through <paramref name="get"/> (testable without touching the real environment).</summary>
    public static LaunchEnvironment Detect(Func<string, string?> get)
    {
        int? I(string name) => int.TryParse(get(name), out var v) ? v : null;

        // Open MPI's mpirun (and Open MPI ranks under srun --mpi=pmix) export the OMPI_COMM_WORLD_* set.
        if (I("OMPI_COMM_WORLD_SIZE") is { } ompiSize)
            return new("mpirun (Open MPI)", ompiSize, I("OMPI_COMM_WORLD_RANK"), I("OMPI_COMM_WORLD_LOCAL_RANK"), I("OMPI_COMM_WORLD_LOCAL_SIZE"));
        // Slurm's srun: SLURM_STEP_NUM_TASKS exists inside a job step only (not in the batch script itself,
        // where SLURM_NTASKS describes the allocation but only one process runs).
        if (I("SLURM_STEP_NUM_TASKS") is { } slurmSize && I("SLURM_PROCID") is { } slurmRank)
            return new("srun (Slurm)", slurmSize, slurmRank, I("SLURM_LOCALID"), LocalTasksFromSlurm(get));
        // Hydra (MPICH, Intel MPI) and PMI-1/2 launchers.
        if (I("PMI_SIZE") is { } pmiSize)
            return new("PMI (Hydra)", pmiSize, I("PMI_RANK"), I("MPI_LOCALRANKID"), I("MPI_LOCALNRANKS"));
        // PMIx without Open MPI variables (e.g. prterun): the size comes from MPI after init.
        if (I("PMIX_RANK") is { } pmixRank)
            return new("pmix", null, pmixRank, I("LOCAL_RANK"), null);
        return None;
    }

    /// <summary>Tasks on this node from <c>SLURM_STEP_TASKS_PER_NODE</c> (e.g. <c>4(x2),3</c>) and <c>SLURM_NODEID</c>.</summary>
    static int? LocalTasksFromSlurm(Func<string, string?> get)
    {
        var spec = get("SLURM_STEP_TASKS_PER_NODE") ?? get("SLURM_TASKS_PER_NODE");
        if (string.IsNullOrWhiteSpace(spec) || !int.TryParse(get("SLURM_NODEID"), out var node)) return null;
        int index = 0;
        foreach (var part in spec.Split(','))
        {
            var p = part.Trim();
            int count, repeat = 1;
            var paren = p.IndexOf('(');
            if (paren >= 0)
            {
                if (!int.TryParse(p[..paren], out count)) return null;
                var inner = p[(paren + 1)..].TrimEnd(')').TrimStart('x');
                if (!int.TryParse(inner, out repeat)) return null;
            }
            else if (!int.TryParse(p, out count)) return null;
            if (node < index + repeat) return count;
            index += repeat;
        }
        return null;
    }

    /// <summary>
    /// The local rank other tools would read (<c>OMPI_COMM_WORLD_LOCAL_RANK</c>, <c>SLURM_LOCALID</c>,
    /// <c>MPI_LOCALRANKID</c>, <c>LOCAL_RANK</c>), for cross-checking MPI's shared-memory split.
    /// </summary>
    public static int? LocalRankFromEnvironment(Func<string, string?>? get = null)
    {
        get ??= Environment.GetEnvironmentVariable;
        foreach (var name in new[] { "OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID", "MPI_LOCALRANKID", "LOCAL_RANK" })
            if (int.TryParse(get(name), out var v)) return v;
        return null;
    }
}
