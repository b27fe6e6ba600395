using Strix.Distributed;
using Strix.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Strix.Engine.Strategies;

/// <summary>
/// Data-parallel training, one process per device (PyTorch DDP semantics): rank 0's parameters and
/// buffers are broadcast at start (and after a resume); each rank trains on its shard of every epoch;
/// gradients are averaged in ~25 MB flattened buckets before unscaling, clipping and the step, so all
/// ranks take identical steps; batch norm stays local unless <c>syncBatchNorm</c> is set. Logged epoch metrics are combined over ranks;
/// only rank 0 runs loggers and <see cref="IRankZeroOnly"/> callbacks (checkpoints, progress). Stop
/// requests (signals, time budget) and non-finite losses are agreed by all ranks, and epoch-end
/// decisions come from rank 0, so no rank ever waits in a collective the others skipped. The EMA is
/// kept on every rank (identical, since the weights are): sharded validation needs it everywhere.
/// CPU training splits the machine's cores among the local ranks; on GPUs each local rank takes its own device.
/// </summary>
public sealed class DistributedDataParallelStrategy : Strategy
{
    readonly long _bucketBytes;
    IDisposable? _syncBatchNorm;
    GradientBucketReducer? _reducer;
    IReadOnlyList<Parameter>? _reducerParams;

    /// <param name="group">The ranks (e.g. <see cref="ProcessGroups.FromEnvironment"/>); the caller disposes it.</param>
    /// <param name="bucketBytes">Gradient bucket size (PyTorch's default 25 MB).</param>
    /// <param name="splitCpuThreads">Give each local rank cores/local_ranks torch threads (unless OMP_NUM_THREADS is set).</param>
    /// <param name="syncBatchNorm">Normalise with global-batch statistics (<see cref="SyncBatchNorm"/>) instead of each rank's own.</param>
    public DistributedDataParallelStrategy(IProcessGroup group, long bucketBytes = GradientBucketReducer.DefaultBucketBytes, bool splitCpuThreads = true,
        bool syncBatchNorm = false)
    {
        Group = group ?? throw new ArgumentNullException(nameof(group));
        _bucketBytes = bucketBytes;
        SplitCpuThreads = splitCpuThreads;
        SyncBatchNormEnabled = syncBatchNorm;
    }

    public override IProcessGroup Group { get; }
    public bool SplitCpuThreads { get; }
    public bool SyncBatchNormEnabled { get; }

    /// <summary>
    /// <c>cpu</c> → CPU (threads split among local ranks); <c>cuda</c>, empty (with CUDA) → <c>cuda:{local rank}</c>;
    /// a list <c>0,1,2,3</c> → the local rank's entry; a single <c>cuda:N</c>/<c>N</c> is honoured only with one local rank.
    /// </summary>
    public override Device ResolveDevice(string? requested)
    {
        var s = (requested ?? "").Trim().ToLowerInvariant();
        int local = Group.LocalRank, localSize = Group.LocalWorldSize;
        Device device;
        if (s.Contains(','))
        {
            var ids = s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (ids.Length < localSize)
                throw new ArgumentException($"device={requested} lists {ids.Length} devices but {localSize} ranks run on this machine: list one per local rank");
            device = Devices.Parse(ids[local]);
        }
        else if (s is "cuda" or "gpu" || (s.Length == 0 && cuda.is_available()))
            device = Devices.Parse(local.ToString(System.Globalization.CultureInfo.InvariantCulture));
        else
        {
            device = Devices.Parse(requested);
            if (device.type == DeviceType.CUDA && localSize > 1)
                throw new ArgumentException($"device={requested} would put all {localSize} local ranks on one GPU: use device=cuda (one GPU per local rank) or a list such as device=0,1");
        }
        if (device.type == DeviceType.CPU && SplitCpuThreads) CpuThreads.Apply(Group);
        return device;
    }

    public override void SetupModel(nn.Module model)
    {
        ModuleSync.BroadcastParameters(model, Group, 0, _bucketBytes);
        if (SyncBatchNormEnabled && IsDistributed)
        {
            _syncBatchNorm?.Dispose();
            _syncBatchNorm = SyncBatchNorm.Apply(model, Group);
        }
    }

    public override void OnRestored(nn.Module model) => ModuleSync.BroadcastParameters(model, Group, 0, _bucketBytes);

    public override IBatchSource<T> TrainSource<T>(IBatchSource<T> source) =>
        source is IRankShardedSource { IsRankSharded: true } || !IsDistributed ? source : new ShardedBatchSource<T>(source, Rank, WorldSize, pad: true);

    public override IBatchSource<T> ValSource<T>(IBatchSource<T> source) =>
        source is IRankShardedSource { IsRankSharded: true } || !IsDistributed ? source : new ShardedBatchSource<T>(source, Rank, WorldSize, pad: false);

    public override void ReduceGradients(IReadOnlyList<Parameter> parameters)
    {
        if (!IsDistributed) return;
        if (_reducer is null || _reducerParams is null || !_reducerParams.SequenceEqual(parameters, ReferenceEqualityComparer.Instance))
        {
            _reducer?.Dispose();
            _reducer = new GradientBucketReducer(Group, parameters, _bucketBytes);
            _reducerParams = parameters.ToList();
        }
        _reducer.Reduce();
    }

    public override bool[] AnyRank(params bool[] local)
    {
        if (!IsDistributed) return local;
        using var t = tensor(local.Select(b => b ? 1L : 0L).ToArray());
        Group.AllReduceSum(t);
        return t.data<long>().ToArray().Select(v => v > 0).ToArray();
    }

    public override void SyncMetrics(EpochMetrics metrics)
    {
        if (!IsDistributed) return;
        // Names may differ (a rank without validation batches logged nothing): agree on the union first.
        var mine = metrics.Entries().Select(e => new MetricName(e.Name, e.ProgBar, e.OnEpoch)).ToArray();
        var all = Group.GatherObjects(mine);
        var union = new List<MetricName>();
        var index = new Dictionary<string, int>();
        foreach (var rankNames in all)
            foreach (var m in rankNames)
            {
                if (index.TryGetValue(m.Name, out var i)) union[i] = union[i] with { ProgBar = union[i].ProgBar || m.ProgBar, OnEpoch = union[i].OnEpoch || m.OnEpoch };
                else { index[m.Name] = union.Count; union.Add(m); }
            }
        var local = metrics.Entries().ToDictionary(e => e.Name);
        var sums = new double[union.Count * 2];
        for (int i = 0; i < union.Count; i++)
            if (local.TryGetValue(union[i].Name, out var e)) { sums[2 * i] = e.Sum; sums[2 * i + 1] = e.Count; }
        using var t = tensor(sums);
        Group.AllReduceSum(t);
        var total = t.data<double>().ToArray();
        metrics.Replace(union.Select((m, i) => (m.Name, total[2 * i], (long)total[2 * i + 1], m.ProgBar, m.OnEpoch)));
    }

    public override T FromRankZero<T>(T value) => IsDistributed ? Group.BroadcastObject(value, 0) : value;

    public override void Barrier() => Group.Barrier();

    record MetricName(string Name, bool ProgBar, bool OnEpoch);
}
