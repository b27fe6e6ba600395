using Strix.Runtime;
using Strix.Distributed;
using TorchSharp;
using static TorchSharp.torch;

namespace Strix.MpiHost;

/// <summary>Values of every collective checked against hand-computed expectations on every rank.</summary>
static class CollectiveScenarios
{
    public static int Run(IProcessGroup g, Dictionary<string, string> options)
    {
        int failures = 0;
        int W = g.WorldSize, R = g.Rank;
        void Check(string name, bool ok, string detail = "")
        {
            if (!ok) { failures++; Console.Error.WriteLine($"rank {R}: CHECK {name} FAILED {detail}"); }
            else if (R == 0) Console.WriteLine($"CHECK {name} ok");
        }
        long triangle = W * (W - 1L) / 2; // Σ rank

        // all-reduce sum: float32, float64, int64, int32, float16 (via float32); values r+i.
        foreach (var dt in new[] { ScalarType.Float32, ScalarType.Float64, ScalarType.Int64, ScalarType.Int32, ScalarType.Float16 })
        {
            using var t = (arange(0, 1000, dtype: ScalarType.Int64) + R).to(dt);
            g.AllReduceSum(t);
            using var expected = (arange(0, 1000, dtype: ScalarType.Int64) * W + triangle).to(ScalarType.Float64);
            double diff = (t.to(ScalarType.Float64) - expected).abs().max().ToDouble();
            Check($"allreduce_{dt}", diff == 0 && t.dtype == dt, $"max diff {diff}");
        }
        // large float32 buffer (several MB): Σ_r (r+1)·0.5
        {
            using var t = full(3_200_000, (R + 1) * 0.5f);
            g.AllReduceSum(t);
            float want = 0.5f * W * (W + 1) / 2f;
            Check("allreduce_3.2M_float32", (t - want).abs().max().ToSingle() == 0);
        }
        // non-contiguous view: a transposed slice is reduced in place and written back; the rest is untouched.
        {
            using var m = full(new long[] { 4, 6 }, (float)(R + 1));
            using var view = m.t()[TensorIndex.Slice(1, 3)];  // [2, 4] strided view of columns 1..2
            g.AllReduceSum(view);
            float sum = W * (W + 1) / 2f;
            bool ok = m[TensorIndex.Colon, TensorIndex.Slice(1, 3)].eq(sum).all().ToBoolean()
                   && m[TensorIndex.Colon, 0].eq(R + 1).all().ToBoolean()
                   && m[TensorIndex.Colon, TensorIndex.Slice(3, 6)].eq(R + 1).all().ToBoolean();
            Check("allreduce_noncontiguous_view", ok);
        }
        // broadcast from rank 0 and from the last rank, float32 and int64, plus a bool mask.
        foreach (var root in new[] { 0, W - 1 })
        {
            using var t = arange(10, dtype: ScalarType.Float32) * (R + 1);
            g.Broadcast(t, root);
            Check($"broadcast_root{root}_float32", Same(t, arange(10, dtype: ScalarType.Float32) * (root + 1)));
            using var l = tensor(new long[] { R, long.MaxValue - R });
            g.Broadcast(l, root);
            Check($"broadcast_root{root}_int64", l[0].ToInt64() == root && l[1].ToInt64() == long.MaxValue - root);
        }
        {
            using var b = tensor(new[] { R == 0, R != 0, true });
            g.Broadcast(b, 0);
            Check("broadcast_bool", b[0].ToBoolean() && !b[1].ToBoolean() && b[2].ToBoolean());
        }
        g.Barrier();
        Check("barrier", true);

        // all-gather, fixed size: [W, 2, 3] with rank r's block filled with r.
        {
            using var t = full(new long[] { 2, 3 }, R, ScalarType.Int32);
            using var all = g.AllGather(t);
            bool ok = all.shape.SequenceEqual(new long[] { W, 2, 3 });
            for (int r = 0; r < W && ok; r++) ok = all[r].eq(r).all().ToBoolean();
            Check("allgather_fixed", ok, string.Join(",", all.shape));
        }
        // all-gather, variable: rank r sends r rows (rank 0 sends none) of [r, 10r+1, 10r+2].
        {
            using var row = tensor(new double[] { R, 10 * R + 1, 10 * R + 2 });
            using var mine = R == 0 ? zeros(0, 3, ScalarType.Float64) : row.unsqueeze(0).repeat(R, 1);
            using var all = g.AllGatherVariable(mine);
            var expectedRows = Enumerable.Range(0, W).SelectMany(r => Enumerable.Repeat(r, r)).ToArray();
            bool ok = all.shape.SequenceEqual(new long[] { expectedRows.Length, 3 });
            for (int i = 0; i < expectedRows.Length && ok; i++)
                ok = Same(all[i], tensor(new double[] { expectedRows[i], 10 * expectedRows[i] + 1, 10 * expectedRows[i] + 2 }));
            Check("allgather_variable", ok, string.Join(",", all.shape));
        }
        // bytes and objects
        {
            var payload = Enumerable.Range(0, R * 3 + 1).Select(i => (byte)(R * 16 + i)).ToArray();
            var all = g.AllGatherBytes(payload);
            bool ok = all.Length == W;
            for (int r = 0; r < W && ok; r++)
                ok = all[r].SequenceEqual(Enumerable.Range(0, r * 3 + 1).Select(i => (byte)(r * 16 + i)));
            Check("allgather_bytes", ok);
            var objs = g.GatherObjects(new Stat($"rank{R}", R * 1.5, new[] { R, R + 1 }));
            ok = objs.Length == W && objs.Select((o, r) => o.Name == $"rank{r}" && o.Value == r * 1.5 && o.Counts.SequenceEqual(new[] { r, r + 1 })).All(x => x);
            Check("gather_objects", ok);
            var dir = g.BroadcastObject(R == 0 ? new Stat("runs/train/exp3", 7, new[] { 1 }) : null);
            Check("broadcast_object", dir.Name == "runs/train/exp3" && dir.Value == 7);
        }
        // A mismatched all-gather is a clear error on every rank (no rank left waiting).
        {
            using var t = zeros(R + 1, 2);
            try { g.AllGather(t).Dispose(); Check("allgather_shape_mismatch_rejected", W == 1); }
            catch (ArgumentException e) { Check("allgather_shape_mismatch_rejected", e.Message.Contains("same shape")); }
        }

        // Training shards (Shards' rule over one seeded permutation): equal-sized, they interleave back to the
        // padded epoch order, which covers the dataset.
        foreach (var (n, epoch) in new[] { (24, 0), (23, 5), (3, 1) })
        {
            var order = new StrixRandom(11, epoch).Permutation(n);
            var mineIdx = Shards.Positions(n, R, W, pad: true).Select(p => (long)order[p % n]).ToArray();
            using var mine = tensor(mineIdx);
            using var all = g.AllGather(mine); // [W, per rank] (same length everywhere)
            var flat = all.t().reshape(-1).data<long>().ToArray(); // interleave back to the padded epoch order
            int total = Shards.Count(n, R, W, pad: true) * W;
            bool ok = flat.Length == total && flat.Take(n).SequenceEqual(order.Select(i => (long)i))
                && flat.Take(n).Distinct().Count() == n && flat.Skip(n).All(i => i >= 0 && i < n);
            Check($"sampler_n{n}_epoch{epoch}", ok);
        }

        // Sharded evaluation with gathered statistics equals the single-process value.
        {
            const int n = 13;
            using var data = arange(n * 4, dtype: ScalarType.Float64).reshape(n, 4).sin(); // same on every rank
            var shard = Shards.Positions(n, R, W, pad: false).ToArray();
            using var idx = tensor(shard.Select(i => (long)i).ToArray());
            using var perSample = data.index_select(0, idx).pow(2).sum(1);           // a per-image statistic
            using var gatheredIdx = g.AllGatherVariable(idx);
            using var gathered = g.AllGatherVariable(perSample);
            using var order = gatheredIdx.argsort();
            using var single = data.pow(2).sum(1);
            bool ok = gatheredIdx.shape[0] == n && Same(gathered.index_select(0, order), single)
                && Same(gatheredIdx.sort().Values, arange(n, dtype: ScalarType.Int64));
            Check("sharded_eval_equals_single", ok);
        }

        long totalFailures = g.SumAcrossRanks((long)failures);
        if (R == 0) Console.WriteLine($"RESULT collectives_failures={totalFailures}");
        return totalFailures == 0 ? 0 : 1;
    }

    static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.dtype == b.dtype && a.eq(b).all().ToBoolean();

    record Stat(string Name, double Value, int[] Counts);
}
