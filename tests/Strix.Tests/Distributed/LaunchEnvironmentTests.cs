using Strix.Distributed;

namespace Strix.Tests.Distributed;

public class LaunchEnvironmentTests
{
    static Func<string, string?> Env(params (string k, string v)[] vars) => name => vars.FirstOrDefault(x => x.k == name).v;

    [Fact]
    public void Mpirun_IsDetectedWithRanksAndLocalRanks()
    {
        var e = LaunchEnvironment.Detect(Env(("OMPI_COMM_WORLD_SIZE", "8"), ("OMPI_COMM_WORLD_RANK", "5"), ("OMPI_COMM_WORLD_LOCAL_RANK", "1"), ("OMPI_COMM_WORLD_LOCAL_SIZE", "4")));
        Assert.True(e.IsDistributed);
        Assert.Equal((8, 5, 1, 4), (e.WorldSize, e.Rank, e.LocalRank, e.LocalWorldSize));
    }

    [Fact]
    public void Srun_IsDetected_WithLocalTaskCountFromTasksPerNode()
    {
        var e = LaunchEnvironment.Detect(Env(("SLURM_STEP_NUM_TASKS", "11"), ("SLURM_PROCID", "9"), ("SLURM_LOCALID", "1"),
            ("SLURM_NODEID", "2"), ("SLURM_STEP_TASKS_PER_NODE", "4(x2),3")));
        Assert.True(e.IsDistributed);
        Assert.Equal("srun (Slurm)", e.Launcher);
        Assert.Equal((11, 9, 1, 3), (e.WorldSize, e.Rank, e.LocalRank, e.LocalWorldSize));
    }

    [Fact]
    public void SlurmBatchScript_WithoutStep_IsNotDistributed()
    {
        // Inside `sbatch --ntasks=4` but not under srun: one process, not a job step.
        var e = LaunchEnvironment.Detect(Env(("SLURM_NTASKS", "4"), ("SLURM_PROCID", "0"), ("SLURM_JOB_ID", "77")));
        Assert.False(e.IsDistributed);
    }

    [Fact]
    public void HydraAndSingleRankLaunches()
    {
        var hydra = LaunchEnvironment.Detect(Env(("PMI_SIZE", "2"), ("PMI_RANK", "1"), ("MPI_LOCALRANKID", "1"), ("MPI_LOCALNRANKS", "2")));
        Assert.True(hydra.IsDistributed);
        Assert.Equal((2, 1, 1, 2), (hydra.WorldSize, hydra.Rank, hydra.LocalRank, hydra.LocalWorldSize));
        Assert.False(LaunchEnvironment.Detect(Env(("OMPI_COMM_WORLD_SIZE", "1"), ("OMPI_COMM_WORLD_RANK", "0"))).IsDistributed);
        Assert.False(LaunchEnvironment.Detect(Env()).IsDistributed);
    }

    [Fact]
    public void LocalRank_FallsBackThroughLauncherVariables()
    {
        Assert.Equal(3, LaunchEnvironment.LocalRankFromEnvironment(Env(("SLURM_LOCALID", "3"), ("LOCAL_RANK", "7"))));
        Assert.Equal(7, LaunchEnvironment.LocalRankFromEnvironment(Env(("LOCAL_RANK", "7"))));
        Assert.Null(LaunchEnvironment.LocalRankFromEnvironment(Env()));
    }

    [Fact]
    public void PlainProcess_GetsTheSingleProcessGroup()
    {
        Assert.False(LaunchEnvironment.Detect().IsDistributed); // the test runner is not launched by mpirun
        var g = ProcessGroups.FromEnvironment();
        Assert.IsType<SingleProcessGroup>(g);
        Assert.Equal((0, 1, 0, 1), (g.Rank, g.WorldSize, g.LocalRank, g.LocalWorldSize));
    }
}
