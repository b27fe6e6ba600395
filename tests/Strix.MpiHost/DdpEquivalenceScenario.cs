using Strix.Runtime;
using System.Diagnostics;
using System.Globalization;
using Strix.Distributed;
using Strix.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Strix.MpiHost;

/// <summary>
/// Data-parallel equivalence: W ranks × batch 4 for 3 steps must give the weights of one process ×
/// batch 4W on the same sample order. Batch norm runs in eval mode (its batch statistics would
/// legitimately differ when the batch is split); every other piece is the real one: rank 0's
/// parameters AND buffers broadcast at start (ranks are deliberately initialised differently first),
/// Shards' training shards (a seeded permutation, rank r taking positions r, r+W, …), bucketed gradient averaging before clipping, SGD with momentum, Nesterov
/// and weight decay.
/// </summary>
static class DdpEquivalenceScenario
{
    const int Steps = 3, LocalBatch = 4, DatasetSize = 24, ImageSize = 64;

    public static int Run(IProcessGroup g, Dictionary<string, string> options)
    {
        long bucketBytes = options.TryGetValue("bucket_bytes", out var bb) ? long.Parse(bb, CultureInfo.InvariantCulture) : 16 * 1024;
        int R = g.Rank;

        using var gen = new Generator(123, CPU);
        using var images = rand(new long[] { DatasetSize, 3, ImageSize, ImageSize }, generator: gen);

        manual_seed(100 + 17 * R); // different weights on every rank until the broadcast
        using var model = NewModel();
        foreach (var (name, b) in model.named_buffers())
            using (no_grad())
            {
                if (name.EndsWith("running_var")) b.fill_(1 + 0.25 * R);
                if (name.EndsWith("running_mean")) b.fill_(0.1 * R);
            }
        if (R == 0) CalibrateBatchNorm(model, images);   // only rank 0 has meaningful statistics: the broadcast must carry them
        ModuleSync.BroadcastParameters(model, g);
        double afterBroadcast = SpreadAcrossRanks(model, g);
        var initial = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());

        var sw = Stopwatch.StartNew();
        var sampler = Shard(g.Rank, g.WorldSize);
        var (losses, buckets) = Train(model, g, images, sampler, LocalBatch, bucketBytes);
        double ddpMs = sw.Elapsed.TotalMilliseconds;
        double afterTraining = SpreadAcrossRanks(model, g);

        double maxDiff = double.NaN;
        if (R == 0)
        {
            // The single-process reference on rank 0: same initial state, whole batches of 4W.
            using var reference = NewModel();
            reference.load_state_dict(initial);
            var single = Shard(0, 1);
            Train(reference, SingleProcessGroup.Instance, images, single, LocalBatch * g.WorldSize, bucketBytes);
            maxDiff = MaxAbsDiff(model, reference);
            // Negative control: the same 2-rank shard of batches without gradient averaging must differ,
            // or the check above could not fail.
            using var control = NewModel();
            control.load_state_dict(initial);
            Train(control, SingleProcessGroup.Instance, images, sampler, LocalBatch, bucketBytes);
            double controlDiff = MaxAbsDiff(control, reference);
            Console.WriteLine(FormattableString.Invariant(
                $"RESULT ddp_vs_single_maxdiff={maxDiff:E3} control_without_averaging_maxdiff={controlDiff:E3} ranks_spread_after_broadcast={afterBroadcast:E3} ranks_spread_after_training={afterTraining:E3} buckets={buckets} params={model.parameters().Sum(p => p.numel())} losses={string.Join(";", losses.Select(l => l.ToString("G6")))} ddp_ms={ddpMs:F0}"));
        }
        g.Barrier();

        // Batch norm in training mode: local BN (the default) sees 4 images per rank and differs from one
        // process on 8; synchronised BN normalises over the global batch and must match it.
        using var synced = NewModel();
        synced.load_state_dict(initial);
        synced.train();
        using (SyncBatchNorm.Apply(synced, g)) Train(synced, g, images, sampler, LocalBatch, bucketBytes);
        using var local = NewModel();
        local.load_state_dict(initial);
        local.train();
        Train(local, g, images, sampler, LocalBatch, bucketBytes);
        double syncSpread = SpreadAcrossRanks(synced, g);
        if (R == 0)
        {
            using var reference = NewModel();
            reference.load_state_dict(initial);
            reference.train();
            Train(reference, SingleProcessGroup.Instance, images, Shard(0, 1), LocalBatch * g.WorldSize, bucketBytes);
            Console.WriteLine(FormattableString.Invariant(
                $"RESULT syncbn_vs_single_maxdiff={MaxAbsDiff(synced, reference):E3} syncbn_buffers_maxdiff={MaxBufferDiff(synced, reference):E3} localbn_vs_single_maxdiff={MaxAbsDiff(local, reference):E3} syncbn_ranks_spread={syncSpread:E3}"));
        }
        foreach (var t in initial.Values) t.Dispose();
        g.Barrier();
        return 0;
    }

    static double MaxBufferDiff(DetectionModel a, DetectionModel b) =>
        a.buffers().Zip(b.buffers()).Where(p => p.First.is_floating_point()).Max(p => (p.First - p.Second).abs().max().ToDouble());

    static DetectionModel NewModel()
    {
        var m = new DetectionModel(new YoloScale("t", 0.33, 0.0625, 1024), 2);
        m.eval(); // batch norm on running statistics: batch splitting must not change the maths
        return m;
    }

    /// <summary>
    /// Running statistics from the data (momentum 1 for one pass), so eval-mode batch norm keeps
    /// activations at unit scale: without it the random-init signal fades over ~20 layers, the outputs
    /// are the head biases, and the gradients barely depend on which images a rank got.
    /// </summary>
    static void CalibrateBatchNorm(DetectionModel model, Tensor images)
    {
        var norms = model.modules().OfType<NormBase>().ToList();
        foreach (var bn in norms) bn.momentum = 1.0;
        model.train();
        using (no_grad()) foreach (var o in model.call(images)) o.Dispose();
        foreach (var bn in norms) bn.momentum = 0.03;
        model.eval();
    }

    /// <summary>This rank's sample indices: one seeded permutation of the data set, split by <see cref="Shards"/>.</summary>
    static int[] Shard(int rank, int world)
    {
        var order = new StrixRandom(7).Permutation(DatasetSize);
        return Shards.Positions(DatasetSize, rank, world, pad: true).Select(p => order[p % DatasetSize]).ToArray();
    }

    static (double[] losses, int buckets) Train(DetectionModel model, IProcessGroup g, Tensor images, int[] indices, int batch, long bucketBytes)
    {
        var opt = optim.SGD(model.parameters(), 0.01, momentum: 0.9, weight_decay: 5e-4, nesterov: true);
        using var reducer = new GradientBucketReducer(g, model, bucketBytes);
        var losses = new double[Steps];
        for (int s = 0; s < Steps; s++)
        {
            using var scope = NewDisposeScope();
            var idx = tensor(indices.Skip(s * batch).Take(batch).Select(i => (long)i).ToArray());
            opt.zero_grad();
            var outs = model.call(images.index_select(0, idx));
            // Mean over the local batch: averaging it over ranks equals the mean over the global batch.
            var loss = outs.Select(o => o.pow(2).mean()).Aggregate((a, b) => a + b);
            loss.backward();
            reducer.Reduce();                                   // before clipping and the step
            nn.utils.clip_grad_norm_(model.parameters(), 10.0);
            opt.step();
            losses[s] = loss.ToDouble();
        }
        return (losses, reducer.BucketCount);
    }

    /// <summary>Largest difference between any rank's parameters+buffers and rank 0's.</summary>
    static double SpreadAcrossRanks(DetectionModel model, IProcessGroup g)
    {
        using var scope = NewDisposeScope();
        var flat = cat(model.parameters().Select(p => p.detach().reshape(-1))
            .Concat(model.buffers().Where(b => b.is_floating_point()).Select(b => b.reshape(-1))).ToList(), 0);
        var all = g.AllGather(flat);
        return (all - all[0]).abs().max().ToDouble();
    }

    static double MaxAbsDiff(DetectionModel a, DetectionModel b)
    {
        double max = 0;
        foreach (var (pa, pb) in a.parameters().Zip(b.parameters()))
            max = Math.Max(max, (pa - pb).abs().max().ToDouble());
        return max;
    }
}
