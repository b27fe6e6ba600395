using System.Diagnostics;
using Strix.Distributed;
using Strix.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Bench;

/// <summary>
/// Data-parallel costs on this machine, launched under MPI:
/// <c>mpirun --allow-run-as-root -np 2 dotnet bench/bin/Release/net10.0/Strix.Bench.dll ddp</c>
/// (root needs --allow-run-as-root; add --oversubscribe when ranks exceed cores).
/// Measures (1) Strix's all-reduce (non-blocking + deadline polling) of yolov8n's gradient size,
/// 3.2 M float32, against a plain blocking MPI_Allreduce loop on the same buffer — what MPI itself
/// reaches; (2) the 8-byte latency of both; (3) GradientBucketReducer.Reduce on yolov8n's real
/// parameters (25 MB buckets, copies included); (4) one training step of yolov8n at one thread per
/// rank: rank 0 alone (the single-process baseline, others wait) vs every rank in DDP.
/// Options: elements=3200000 runs=20 imgsz=320 batch=4 steps=6 step=false (skip the step timing).
/// </summary>
public static class DdpBench
{
    public const string Command = "mpirun --allow-run-as-root -np 2 dotnet bench/bin/Release/net10.0/Strix.Bench.dll ddp";

    public static int Run(string[] args)
    {
        var o = BenchUtil.Options(args);
        int I(string k, int d) => o.TryGetValue(k, out var v) ? int.Parse(v) : d;
        long elements = I("elements", 3_200_000);
        int runs = I("runs", 20), imgsz = I("imgsz", 320), batch = I("batch", 4), steps = I("steps", 6);
        bool doStep = !o.TryGetValue("step", out var sv) || sv != "false";

        var g = ProcessGroups.FromEnvironment(TimeSpan.FromMinutes(10));
        torch.set_num_threads(1); // one thread per rank: compares ranks, not thread pools
        if (g.WorldSize < 2)
            Console.Error.WriteLine($"ddp bench: single process; for the MPI numbers run: {Command}");

        object? allreduce = null, latency = null, reducer = null, step = null;
        if (g is MpiProcessGroup mpi)
        {
            allreduce = AllReduce(mpi, elements, runs);
            latency = Latency(mpi, runs * 10);
            reducer = Reducer(g, runs);
        }
        if (doStep) step = StepTimes(g, imgsz, batch, steps);

        if (g.Rank == 0)
            BenchUtil.Print(new
            {
                bench = "ddp",
                command = Command,
                world = g.WorldSize,
                local_world = g.LocalWorldSize,
                mpi_library = (g as MpiProcessGroup)?.LibraryVersion.Split('\n')[0],
                machine = BenchUtil.Machine(),
                allreduce_float32 = allreduce,
                latency_8_bytes = latency,
                gradient_reducer_yolov8n = reducer,
                train_step_yolov8n = step,
            });
        g.Dispose();
        return 0;
    }

    /// <summary>(median, min) ms of <paramref name="op"/> over synchronised starts; each run counts as its slowest rank. Every rank runs the same loop.</summary>
    static (double Median, double Min) MedianMs(IProcessGroup g, Action op, int runs, int warmup = 3)
    {
        for (int i = 0; i < warmup; i++) op();
        var times = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            g.Barrier();
            var sw = Stopwatch.StartNew();
            op();
            times[i] = sw.Elapsed.TotalMilliseconds;
        }
        using var t = tensor(times);
        using var all = g.AllGather(t);
        var worst = all.max(0).values.data<double>().ToArray();
        Array.Sort(worst);
        return (worst[runs / 2], worst[0]);
    }

    static object AllReduce(MpiProcessGroup g, long elements, int runs)
    {
        using var buf = ones(elements);
        long threshold = g.BlockingThresholdBytes;
        var (strix, strixMin) = MedianMs(g, () => g.AllReduceSum(buf), runs);             // default: guarded blocking for large buffers
        g.BlockingThresholdBytes = long.MaxValue;
        var (nonBlocking, nonBlockingMin) = MedianMs(g, () => g.AllReduceSum(buf), runs);  // MPI_Iallreduce + MPI_Test polling
        g.BlockingThresholdBytes = threshold;
        var (raw, rawMin) = MedianMs(g, () => g.BlockingAllReduceSumForBench(buf), runs);
        double bytes = elements * 4.0;
        double busFactor = 2.0 * (g.WorldSize - 1) / g.WorldSize; // a ring all-reduce moves 2(W-1)/W of the buffer per rank
        double Gb(double ms) => BenchUtil.Round(bytes / (ms / 1000) / 1e9, 2);
        return new
        {
            elements,
            megabytes = BenchUtil.Round(bytes / 1e6, 1),
            blocking_threshold_bytes = threshold,
            strix_ms = BenchUtil.Round(strix, 3), strix_min_ms = BenchUtil.Round(strixMin, 3),
            strix_nonblocking_ms = BenchUtil.Round(nonBlocking, 3), strix_nonblocking_min_ms = BenchUtil.Round(nonBlockingMin, 3),
            mpi_blocking_ms = BenchUtil.Round(raw, 3), mpi_blocking_min_ms = BenchUtil.Round(rawMin, 3),
            strix_over_mpi = BenchUtil.Round(strix / raw, 3),
            strix_over_mpi_min = BenchUtil.Round(strixMin / rawMin, 3),
            strix_algbw_gb_per_s = Gb(strix), strix_nonblocking_algbw_gb_per_s = Gb(nonBlocking), mpi_algbw_gb_per_s = Gb(raw),
            mpi_best_algbw_gb_per_s = Gb(rawMin),
            bus_factor = busFactor,
            mpi_busbw_gb_per_s = BenchUtil.Round(busFactor * bytes / (raw / 1000) / 1e9, 2),
        };
    }

    static object Latency(MpiProcessGroup g, int runs)
    {
        using var small = ones(2);
        var (strix, strixMin) = MedianMs(g, () => g.AllReduceSum(small), runs);
        var (raw, rawMin) = MedianMs(g, () => g.BlockingAllReduceSumForBench(small), runs);
        return new
        {
            strix_us = BenchUtil.Round(strix * 1000, 1), strix_min_us = BenchUtil.Round(strixMin * 1000, 1),
            mpi_blocking_us = BenchUtil.Round(raw * 1000, 1), mpi_blocking_min_us = BenchUtil.Round(rawMin * 1000, 1),
        };
    }

    static object Reducer(IProcessGroup g, int runs)
    {
        manual_seed(0);
        using var model = DetectionModel.Create("yolov8n", 80);
        foreach (var p in model.parameters()) p.grad = randn_like(p);
        using var r = new GradientBucketReducer(g, model);
        var (ms, min) = MedianMs(g, r.Reduce, runs);
        return new { parameters = r.TotalElements, buckets = r.BucketCount, reduce_ms = BenchUtil.Round(ms, 3), reduce_min_ms = BenchUtil.Round(min, 3) };
    }

    /// <summary>Rank 0 alone (others wait at a barrier), then all ranks in DDP; forward + backward + reduce + SGD.</summary>
    static object StepTimes(IProcessGroup g, int imgsz, int batch, int steps)
    {
        double single = double.NaN;
        if (g.Rank == 0) single = Steps(SingleProcessGroup.Instance, imgsz, batch, steps, out _);
        g.Barrier();
        double ddp = double.NaN, reduce = double.NaN;
        if (g.WorldSize > 1)
        {
            ddp = Steps(g, imgsz, batch, steps, out reduce);
            using var t = tensor(new[] { ddp, reduce });
            using var all = g.AllGather(t);
            var worst = all.max(0).values.data<double>().ToArray();
            (ddp, reduce) = (worst[0], worst[1]);
        }
        return new
        {
            imgsz, batch_per_rank = batch, threads_per_rank = 1, steps,
            single_process_ms = BenchUtil.Round(single, 1),
            ddp_ms = double.IsNaN(ddp) ? (double?)null : BenchUtil.Round(ddp, 1),
            ddp_gradient_reduce_ms = double.IsNaN(reduce) ? (double?)null : BenchUtil.Round(reduce, 1),
            images_per_s_single = BenchUtil.Round(batch / (single / 1000), 2),
            images_per_s_ddp = double.IsNaN(ddp) ? (double?)null : BenchUtil.Round(g.WorldSize * batch / (ddp / 1000), 2),
            scaling_efficiency = double.IsNaN(ddp) ? (double?)null : BenchUtil.Round(single / ddp, 3),
        };
    }

    static double Steps(IProcessGroup g, int imgsz, int batch, int steps, out double reduceMs)
    {
        manual_seed(0);
        using var model = DetectionModel.Create("yolov8n", 80);
        model.train();
        var opt = optim.SGD(model.parameters(), 0.01, momentum: 0.937, nesterov: true);
        using var reducer = new GradientBucketReducer(g, model);
        using var x = rand(batch, 3, imgsz, imgsz);
        var times = new List<double>();
        var reduces = new List<double>();
        for (int s = 0; s < steps + 1; s++) // first step is warm-up
        {
            using var scope = NewDisposeScope();
            var sw = Stopwatch.StartNew();
            opt.zero_grad();
            var loss = model.call(x).Select(o => o.pow(2).mean()).Aggregate((a, b) => a + b);
            loss.backward();
            var r0 = sw.Elapsed.TotalMilliseconds;
            reducer.Reduce();
            var r1 = sw.Elapsed.TotalMilliseconds;
            opt.step();
            if (s > 0) { times.Add(sw.Elapsed.TotalMilliseconds); reduces.Add(r1 - r0); }
        }
        times.Sort(); reduces.Sort();
        reduceMs = reduces[reduces.Count / 2];
        return times[times.Count / 2];
    }
}
