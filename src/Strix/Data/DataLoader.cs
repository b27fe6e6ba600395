using Strix.Distributed;
using Strix.Runtime;
using System.Collections;

namespace Strix.Data;

/// <summary>
/// Batches a <see cref="YoloDataset"/> for training or validation. Worker threads decode and augment
/// samples ahead of the consumer into a bounded window of <see cref="DataLoaderOptions.Prefetch"/>
/// batches, and the worker finishing a batch collates it, so the training thread only waits when
/// data truly cannot keep up. Batches come out in order, and every sample depends only on
/// (seed, epoch, index): the same seed gives identical batches with any number of workers.
/// </summary>
/// <example>
/// <code>
/// using var loader = DataLoader.Create(cfg, "train", DataLoaderOptions.ForTraining(imgsz: 640, epochs: 100));
/// for (int epoch = 0; epoch &lt; 100; epoch++)
/// {
///     loader.SetEpoch(epoch);                 // reshuffles; closes mosaic for the last close_mosaic epochs
///     foreach (var batch in loader) using (batch) { /* … */ }
/// }
/// </code>
/// </example>
public sealed class DataLoader : IEnumerable<Batch>, IDisposable
{
    readonly object _runsGate = new();
    readonly HashSet<EpochRun> _runs = new();
    bool _disposed;

    readonly Func<int, int[]>? _sampler;
    readonly int _samplesPerEpoch;

    /// <summary>Wraps a dataset; batching options default to the dataset's own.</summary>
    /// <param name="dataset">The checked dataset (its options decide augmentation and image size).</param>
    /// <param name="options">Batch size, shuffle, workers, prefetch; null = the dataset's options.</param>
    /// <param name="sampler">
    /// Optional per-epoch index list replacing the loader's own order, e.g. a distributed sampler's shard
    /// (<c>e => { sampler.Epoch = e; return sampler.Indices(); }</c>). It must return the same count every epoch.
    /// </param>
    public DataLoader(YoloDataset dataset, DataLoaderOptions? options = null, Func<int, int[]>? sampler = null)
    {
        Dataset = dataset;
        _sampler = sampler;
        _samplesPerEpoch = sampler is null ? dataset.Count : sampler(0).Length;
        if (_samplesPerEpoch == 0) throw new ArgumentException("the sampler returned no indices");
        Options = options ?? dataset.Options;
        Options.Validate();
        if (Options.Rect && Options.Shuffle)
        {
            dataset.Warn("rect=True is incompatible with shuffle; batches are not shuffled");
            Options = Options with { Shuffle = false };
        }
        if (Options.Rect && Options.BatchSize != dataset.Options.BatchSize)
            throw new ArgumentException($"rect batch shapes were computed for batch={dataset.Options.BatchSize}, loader uses batch={Options.BatchSize}");
    }

    /// <summary>Checks the split of <paramref name="config"/> and builds a loader over it.</summary>
    public static DataLoader Create(DatasetConfig config, string split, DataLoaderOptions options, Action<string>? warn = null) =>
        new(YoloDataset.Create(config, split, options, warn), options);

    public YoloDataset Dataset { get; }
    public DataLoaderOptions Options { get; private set; }
    /// <summary>The epoch the next enumeration yields (set by <see cref="SetEpoch"/>).</summary>
    public int Epoch { get; private set; }

    /// <summary>Batches per epoch (of this rank, when sharded).</summary>
    public int Count
    {
        get
        {
            int bs = Options.BatchSize, w = Options.WorldSize;
            if (_sampler is not null) return Options.DropLast ? _samplesPerEpoch / bs : (_samplesPerEpoch + bs - 1) / bs;
            int n = Dataset.Count;
            if (w > 1 && !Options.Shuffle) return Shards.Count(GlobalBatches(n), Options.Rank, w, pad: false); // evaluation: whole batches
            int samples = w > 1 ? Shards.Count(n, Options.Rank, w, pad: true) : n;
            return Options.DropLast ? samples / bs : (samples + bs - 1) / bs;
        }
    }

    /// <summary>Batches of the whole (unsharded) epoch of <paramref name="n"/> samples; the last one may be partial unless DropLast.</summary>
    int GlobalBatches(int n)
    {
        int bs = Options.BatchSize, global = (n + bs - 1) / bs;
        return Options.DropLast && n % bs != 0 ? global - 1 : global;
    }

    /// <summary>Samples per epoch (the dataset size, or the sampler's count).</summary>
    public int SamplesPerEpoch => _samplesPerEpoch;

    /// <summary>
    /// Chooses the epoch for the next enumeration: its shuffle order and the random draws of every
    /// sample. When <see cref="DataLoaderOptions.Epochs"/> is set, mosaic is off exactly for epochs
    /// ≥ epochs − close_mosaic (a pure function of the epoch, so resuming reproduces it).
    /// </summary>
    public void SetEpoch(int epoch)
    {
        if (epoch < 0) throw new ArgumentOutOfRangeException(nameof(epoch));
        Epoch = epoch;
        if (Options.Epochs > 0 && Options.Augment && Options.Hyp.CloseMosaic > 0)
        {
            if (epoch >= Options.Epochs - Options.Hyp.CloseMosaic) Dataset.CloseMosaic();
            else Dataset.OpenMosaic();
        }
    }

    /// <summary>Switches mosaic and mixup off from now on (Ultralytics' <c>_close_dataloader_mosaic</c>).</summary>
    public void CloseMosaic() => Dataset.CloseMosaic();

    /// <summary>Whether training samples are currently mosaics.</summary>
    public bool MosaicEnabled => Dataset.MosaicEnabled;

    /// <summary>
    /// The dataset indices of an epoch in the order they are batched. Sharded for data-parallel
    /// training (<see cref="DataLoaderOptions.WorldSize"/> &gt; 1): a shuffled (training) epoch is split
    /// by <see cref="Shards"/> — the same permutation on every rank, wrapped to a multiple of
    /// the world size, rank r taking positions r, r+W, … — so every rank gets the same number of samples
    /// and each sample's augmentation still depends only on (seed, epoch, index); an unshuffled
    /// (validation) epoch is split by whole batches r, r+W, …, without padding, so rect batch shapes stay
    /// valid and every image is evaluated exactly once.
    /// </summary>
    public int[] EpochOrder(int epoch)
    {
        if (_sampler is not null)
        {
            var sampled = _sampler(epoch);
            if (sampled.Length != _samplesPerEpoch)
                throw new InvalidOperationException($"the sampler returned {sampled.Length} indices for epoch {epoch}, {_samplesPerEpoch} for epoch 0; it must return the same count every epoch");
            foreach (var i in sampled)
                if ((uint)i >= (uint)Dataset.Count) throw new InvalidOperationException($"the sampler returned index {i}, outside the dataset of {Dataset.Count}");
            return sampled;
        }
        int n = Dataset.Count;
        var order = Options.Shuffle == Dataset.Options.Shuffle && Options.Seed == Dataset.Options.Seed ? Dataset.EpochOrder(epoch)
            : Options.Shuffle ? new StrixRandom(Options.Seed, epoch, -1, RandomStreams.EpochOrder).Permutation(n) : Enumerable.Range(0, n).ToArray();
        int w = Options.WorldSize, r = Options.Rank;
        if (w <= 1 || n == 0) return order;
        if (Options.Shuffle) return Shards.Positions(n, r, w, pad: true).Select(p => order[p % n]).ToArray();
        int bs = Options.BatchSize;
        return Shards.Positions(GlobalBatches(n), r, w, pad: false).SelectMany(k => order.Skip(k * bs).Take(bs)).ToArray();
    }

    /// <summary>Starts the workers for the current epoch. Disposing the enumerator (end of foreach) stops them.</summary>
    public IEnumerator<Batch> GetEnumerator() => Start(Epoch, 0);

    /// <summary>
    /// <see cref="SetEpoch"/> then the epoch's batches from <paramref name="startBatch"/> on: resuming
    /// mid-epoch yields exactly the batches an uninterrupted run would have, without preparing the skipped ones.
    /// </summary>
    public IEnumerable<Batch> GetEpoch(int epoch, int startBatch = 0)
    {
        if (startBatch < 0 || startBatch > Count) throw new ArgumentOutOfRangeException(nameof(startBatch), $"start batch {startBatch} outside 0..{Count}");
        SetEpoch(epoch);
        using var run = Start(epoch, startBatch);
        while (run.MoveNext()) yield return run.Current;
    }

    IEnumerator<Batch> Start(int epoch, int startBatch)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var run = new EpochRun(this, epoch, startBatch);
        lock (_runsGate) _runs.Add(run);
        return run;
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    void Forget(EpochRun run) { lock (_runsGate) _runs.Remove(run); }

    /// <summary>Stops any running workers and releases prepared batches.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        EpochRun[] runs;
        lock (_runsGate) runs = _runs.ToArray();
        foreach (var r in runs) r.Dispose();
    }

    /// <summary>One pass over the data: its worker threads, the window of batches in flight, and the first error.</summary>
    sealed class EpochRun : IEnumerator<Batch>
    {
        readonly DataLoader _owner;
        readonly YoloDataset _ds;
        readonly int _epoch, _bs, _total, _batches, _prefetch;
        readonly int[] _order;
        readonly object _gate = new();
        readonly Sample[]?[] _slots;
        readonly int[] _remaining;
        readonly Batch?[] _ready;
        readonly Thread[] _threads;
        int _nextSample, _consumed;
        bool _stopping, _disposed;
        Exception? _error;
        Batch? _current;

        public EpochRun(DataLoader owner, int epoch, int startBatch)
        {
            _owner = owner; _ds = owner.Dataset; _epoch = epoch;
            _bs = owner.Options.BatchSize; _prefetch = owner.Options.Prefetch;
            _batches = owner.Count;
            _order = owner.EpochOrder(epoch);
            _total = Math.Min(_order.Length, _batches * _bs);
            _slots = new Sample[]?[_batches];
            _remaining = new int[_batches];
            _ready = new Batch?[_batches];
            for (int b = startBatch; b < _batches; b++)
            {
                int size = Math.Min(_bs, _total - b * _bs);
                _slots[b] = new Sample[size];
                _remaining[b] = size;
            }
            _consumed = startBatch;
            _nextSample = startBatch * _bs;
            int workers = owner.Options.Workers;
            _threads = new Thread[workers];
            for (int i = 0; i < workers; i++)
            {
                _threads[i] = new Thread(Work) { IsBackground = true, Name = $"strix-data-{i}" };
                _threads[i].Start();
            }
        }

        public Batch Current => _current ?? throw new InvalidOperationException("enumeration has not started");
        object IEnumerator.Current => Current;

        void Work()
        {
            while (true)
            {
                int pos;
                lock (_gate)
                {
                    while (!_stopping && _error is null && _nextSample < _total && _nextSample / _bs >= _consumed + _prefetch)
                        Monitor.Wait(_gate);
                    if (_stopping || _error is not null || _nextSample >= _total) return;
                    pos = _nextSample++;
                }
                if (!Produce(pos)) return;
            }
        }

        /// <summary>Loads one sample into its slot; the worker completing a batch collates it. False on error.</summary>
        bool Produce(int pos)
        {
            int b = pos / _bs, k = pos % _bs;
            try
            {
                _slots[b]![k] = _ds.Load(_order[pos], _epoch);
                if (Interlocked.Decrement(ref _remaining[b]) == 0)
                {
                    var batch = Batch.Collate(_slots[b]!);
                    _slots[b] = null;
                    lock (_gate)
                    {
                        if (_stopping) { batch.Dispose(); return false; }
                        _ready[b] = batch;
                        Monitor.PulseAll(_gate);
                    }
                }
                return true;
            }
            catch (Exception e)
            {
                lock (_gate)
                {
                    _error ??= e is InvalidDataException ? e : new InvalidDataException($"{_ds.Items[_order[pos]].ImageFile}: {e.Message}", e);
                    Monitor.PulseAll(_gate);
                }
                return false;
            }
        }

        public bool MoveNext()
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _current = null;
            int b = _consumed;
            if (b >= _batches) return false;
            if (_threads.Length == 0)
            {
                // Synchronous mode (workers=0): everything on the caller's thread.
                for (int pos = b * _bs; pos < Math.Min(_total, (b + 1) * _bs); pos++)
                    if (!Produce(pos)) throw Rethrow();
            }
            lock (_gate)
            {
                while (_ready[b] is null && _error is null && !_stopping) Monitor.Wait(_gate);
                if (_ready[b] is null && _error is null) return false; // stopped by Dispose
                if (_ready[b] is null) { _stopping = true; Monitor.PulseAll(_gate); throw Rethrow(); }
                _current = _ready[b];
                _ready[b] = null;
                _consumed = b + 1;
                Monitor.PulseAll(_gate);
            }
            return true;
        }

        Exception Rethrow()
        {
            var e = _error!;
            return new InvalidDataException($"data loader (epoch {_epoch}): {e.Message}", e);
        }

        public void Reset() => throw new NotSupportedException("start a new foreach instead");

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            lock (_gate) { _stopping = true; Monitor.PulseAll(_gate); }
            foreach (var t in _threads) t.Join();
            lock (_gate)
            {
                for (int i = 0; i < _ready.Length; i++) { _ready[i]?.Dispose(); _ready[i] = null; }
            }
            _owner.Forget(this);
        }
    }
}
