using System.Globalization;
using Strix.Engine;

namespace Strix.Tests.Distributed;

/// <summary>Runs mpirun one at a time: two ranks each, on a machine that may have two cores.</summary>
[CollectionDefinition("mpirun", DisableParallelization = true)]
public sealed class MpirunCollection { }

/// <summary>
/// Real two-rank jobs under <c>mpirun -np 2</c> over the system's Open MPI: collective values, the
/// sampler, DDP equivalence with single-process training, and the never-hang guarantees.
/// </summary>
[Collection("mpirun")]
public class MpiTwoRankTests
{
    static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);

    [SkippableFact]
    public void Collectives_TwoRanks_MatchHandComputedValues()
    {
        var r = MpiRun.Run(2, "collectives", Limit);
        Assert.True(r.ExitCode == 0, r.ToString());
        var v = r.Values();
        Assert.Equal("2", v["world"]);
        Assert.Equal("mpi", v["backend"]);
        Assert.Equal("1", v["threads"]);          // 2 local ranks share this machine's cores
        Assert.Equal("0", v["collectives_failures"]);
        foreach (var check in new[] { "allreduce_Float32", "allreduce_Float64", "allreduce_Int64", "allreduce_Int32", "allreduce_Float16",
                     "allreduce_3.2M_float32", "allreduce_noncontiguous_view", "broadcast_root0_float32", "broadcast_root1_int64",
                     "broadcast_bool", "barrier", "allgather_fixed", "allgather_variable", "allgather_bytes", "gather_objects",
                     "broadcast_object", "allgather_shape_mismatch_rejected", "sampler_n24_epoch0", "sampler_n23_epoch5",
                     "sampler_n3_epoch1", "sharded_eval_equals_single" })
            Assert.Contains($"CHECK {check} ok", r.StdOut);
    }

    [SkippableFact]
    public void Ddp_TwoRanksBatch4_EqualsOneProcessBatch8_AndRanksStayIdentical_AlsoWithSyncBatchNorm()
    {
        var r = MpiRun.Run(2, "ddp", Limit);
        Assert.True(r.ExitCode == 0, r.ToString());
        var v = r.Values();
        double D(string k) => double.Parse(v[k], CultureInfo.InvariantCulture);
        Assert.True(D("ddp_vs_single_maxdiff") <= 1e-5, r.ToString());
        // Negative control in the same run: without averaging the ranks drift apart, so the check can fail.
        Assert.True(D("control_without_averaging_maxdiff") > 1e-3, r.ToString());
        Assert.Equal(0, D("ranks_spread_after_broadcast"));   // rank 0's parameters and buffers everywhere
        Assert.Equal(0, D("ranks_spread_after_training"));    // identical averaged gradients → identical weights
        Assert.True(int.Parse(v["buckets"]) > 1, "the small bucket size must exercise several buckets");
        // Batch norm in training mode: synchronised BN over 2 × 4 equals one process's BN over 8 (weights and
        // running statistics), ranks bit-identical; local BN (the default) does not.
        Assert.True(D("syncbn_vs_single_maxdiff") <= 1e-5, r.ToString());
        Assert.True(D("syncbn_buffers_maxdiff") <= 1e-5, r.ToString());
        Assert.Equal(0, D("syncbn_ranks_spread"));
        Assert.True(D("localbn_vs_single_maxdiff") > 1e-3, r.ToString());
    }

    [SkippableFact]
    public void KilledRank_SurvivorExitsNonZeroWithin60Seconds()
    {
        var r = MpiRun.Run(2, "kill", Limit, "timeout=20");
        Assert.NotEqual(0, r.ExitCode);
        Assert.True(r.Elapsed < TimeSpan.FromSeconds(60), r.ToString());
        Assert.DoesNotContain("survived=true", r.StdOut);
        Assert.Contains("killing myself", r.All);
        // mpirun names the dead rank; the survivor says why it stops.
        Assert.True(r.All.Contains("exited on signal 9") || r.All.Contains("timed out"), r.ToString());
    }

    [SkippableFact]
    public void StalledRank_CollectiveTimesOutAndAbortsTheJob()
    {
        var r = MpiRun.Run(2, "timeout", Limit, "timeout=3");
        Assert.NotEqual(0, r.ExitCode);
        Assert.True(r.Elapsed < TimeSpan.FromSeconds(60), r.ToString()); // rank 1 "sleeps" 120 s: MPI_Abort must kill it
        Assert.DoesNotContain("survived=true", r.StdOut);
        Assert.Contains("MPI_Iallreduce", r.All);
        Assert.Contains("timed out after 3 s on rank 0 of 2", r.All);
    }

    [SkippableFact]
    public void StuckBlockingCall_WatchdogEndsTheRank_AndTheJob()
    {
        var r = MpiRun.Run(2, "watchdog", Limit, "timeout=30");
        Assert.NotEqual(0, r.ExitCode);
        Assert.True(r.Elapsed < TimeSpan.FromSeconds(25), r.ToString()); // the 2 s watchdog, not rank 1's 30 s timeout
        Assert.DoesNotContain("survived=true", r.StdOut);
        Assert.Contains("rank 0 of 2: simulated blocking all-reduce did not finish within 2 s", r.All);
    }

    [SkippableFact]
    public void CrashedRank_UnhandledExceptionAbortsTheJob()
    {
        var r = MpiRun.Run(2, "crash", Limit, "timeout=30");
        Assert.NotEqual(0, r.ExitCode);
        Assert.True(r.Elapsed < TimeSpan.FromSeconds(25), r.ToString()); // well before rank 0's 30 s timeout
        Assert.DoesNotContain("survived=true", r.StdOut);
        Assert.Contains("simulated data-loader crash on rank 1", r.All);
        Assert.Contains("unhandled exception, aborting the job", r.All);
    }

    static double D(Dictionary<string, string> v, string key) => double.Parse(v[key], CultureInfo.InvariantCulture);

    static void AssertClose(Dictionary<string, string> v, string a, string b, double rel, string context)
    {
        double x = D(v, a), y = D(v, b);
        Assert.True(Math.Abs(x - y) <= rel * Math.Max(1e-12, Math.Max(Math.Abs(x), Math.Abs(y))), $"{a}={x} vs {b}={y}\n{context}");
    }

    [SkippableFact]
    public void TrainerDdp_TwoRanksBatch4_EqualsOneProcessBatch8_ValidationMetricsEqual_Rank0WritesCheckpoints()
    {
        var dir = TestPaths.NewTempDir("strix-ddp");
        var r = MpiRun.Run(2, "trainer", Limit, $"dir={dir}");
        Assert.True(r.ExitCode == 0, r.ToString());
        var v = r.Values();
        Assert.Equal("3", v["steps_ddp"]);                       // 24 images / (2 ranks × 4)
        Assert.Equal("3", v["steps_single"]);                    // 24 images / 8
        Assert.True(D(v, "weights_maxdiff") <= 1e-5, r.ToString());
        Assert.True(D(v, "ema_maxdiff") <= 1e-5, r.ToString());
        Assert.Equal(0, D(v, "ranks_spread"));                   // parameters and EMA identical on every rank
        // Validation sharded over the ranks: per-batch means combined by the trainer, per-image statistics
        // gathered by the module — both equal one process validating every image.
        Assert.Equal("10", v["val_images_ddp"]);
        foreach (var m in new[] { "val_loss", "score_mean", "score_q80", "train_loss" })
            AssertClose(v, m + "_ddp", m + "_single", 1e-5, r.ToString());
        Assert.Equal("2;0", v["checkpoints_per_rank"]);           // last + best on rank 0 only
        Assert.True(File.Exists(Path.Combine(dir, "weights", "last.safetensors")));
        Assert.True(File.Exists(Path.Combine(dir, "weights", "best.safetensors")));
    }

    [SkippableFact]
    public void TrainerDdp_KilledRankMidEpoch_OthersExitNonZero_LastIsIntact_AndResumeMatchesUninterruptedRun()
    {
        var dir = TestPaths.NewTempDir("strix-ddp");
        var killed = MpiRun.Run(2, "trainer-kill", Limit, $"dir={dir}");
        Assert.NotEqual(0, killed.ExitCode);
        Assert.True(killed.Elapsed < TimeSpan.FromSeconds(60), killed.ToString());
        Assert.DoesNotContain("survived=true", killed.StdOut);
        Assert.Contains("killing myself (SIGKILL) at epoch 2", killed.All);

        var last = Path.Combine(dir, "weights", "last.safetensors");
        using (var ck = Checkpoint.Load(last))                    // intact: the epoch-1 checkpoint, written atomically
        {
            Assert.True(ck.IsResumable);
            Assert.Equal(1, (int)ck.Trainer["epoch"]!);
            Assert.Equal(3, (long)ck.Trainer["global_step"]!);
        }

        var resumed = MpiRun.Run(2, "trainer-resume", Limit, $"dir={dir}");
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        var v = resumed.Values();
        Assert.Equal("1", v["start_epoch"]);                     // continued, not restarted
        Assert.Equal("3", v["start_step"]);
        Assert.Equal("2", v["resumed_epochs"]);
        Assert.Equal("6", v["steps"]);
        Assert.True(D(v, "weights_maxdiff") <= 1e-5, resumed.ToString()); // = one process, 2 epochs, no interruption
        Assert.True(D(v, "ema_maxdiff") <= 1e-5, resumed.ToString());
        Assert.Equal(0, D(v, "ranks_spread"));
    }

    [SkippableFact]
    public void StrixTrain_UnderMpirun_TrainsDataParallel_Rank0WritesTheRun()
    {
        var dir = TestPaths.NewTempDir("strix-ddp");
        var r = MpiRun.RunDll(2, MpiRun.CliDll(), Limit, dir, "train", $"data={TestPaths.Asset("coco8.yaml")}", "model=yolov8n",
            "imgsz=64", "epochs=2", "batch=4", "workers=1", "plots=false", $"project={Path.Combine(dir, "runs")}");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("2 ranks (mpi), 2 images per rank per step", r.StdOut); // batch is the total, as in Ultralytics
        var run = Path.Combine(dir, "runs", "train");
        Assert.Equal(new[] { run }, Directory.GetDirectories(Path.Combine(dir, "runs")));   // one run folder (rank 0's)
        Assert.Equal(3, File.ReadAllLines(Path.Combine(run, "results.csv")).Length);         // header + 2 epochs, written once
        Assert.True(File.Exists(Path.Combine(run, "weights", "last.safetensors")));
        Assert.True(File.Exists(Path.Combine(run, "weights", "best.safetensors")));
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(r.StdOut, "Validating .*best"));  // final validation on rank 0 only
        Assert.Contains("2 epochs completed", r.StdOut);
    }
}
