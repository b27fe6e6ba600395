using System.Diagnostics;
using System.Text.Json.Nodes;
using Strix.Engine.Loggers;
using Strix.Engine.Optim;
using Strix.Engine.Precision;
using Strix.Engine.Strategies;
using Strix.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Engine;

/// <summary>How a <see cref="Trainer.Fit{TBatch}"/> call ended.</summary>
public sealed record FitResult(int EpochsCompleted, long GlobalStep, string StopReason, bool Interrupted,
    IReadOnlyDictionary<string, double> Metrics, TimeSpan TrainTime);

/// <summary>The loop phase the trainer is in (decides where logged values go).</summary>
public enum TrainerPhase { Idle, Train, Validate, EpochEnd }

/// <summary>
/// The loop-side half of training (Lightning's Trainer), generic over the module's batch type: epochs
/// and time budget, device, precision (fp32 / bf16 autocast / fp16 autocast with loss scaling),
/// gradient accumulation and clipping, the EMA of the weights, the non-finite-loss guard, callbacks,
/// loggers, checkpoints with exact resume, and SIGINT/SIGTERM handling. See <see cref="Callback"/> for
/// the order of hooks.
/// </summary>
public sealed class Trainer
{
    readonly EpochMetrics _trainMetrics = new(), _valMetrics = new(), _epochEndMetrics = new();
    List<(string Name, double Value, bool ProgBar, bool OnStep, bool OnEpoch)>? _pending;
    StrixModule? _module;
    volatile string? _stopRequest;
    bool _stopNow, _epochDone, _validatedThisEpoch, _anyValBatches;
    int _batchesDone, _nonFinite, _restoresWithoutProgress;
    long _lastOptIteration = -1;
    Snapshot? _lastGood;
    Tensor? _rngToRestore;
    double _trainSecondsBefore;
    Stopwatch _clock = new();
    readonly Stopwatch _dataWait = new(), _batchTime = new();

    public Trainer(TrainerOptions? options = null, IEnumerable<Callback>? callbacks = null, IEnumerable<TrainingLogger>? loggers = null)
    {
        Options = options ?? new TrainerOptions();
        Callbacks = callbacks?.ToList() ?? new List<Callback>();
        Loggers = loggers?.ToList() ?? new List<TrainingLogger>();
        Random = new StrixRandom(Options.Seed ?? 0);
        MaxEpochs = Options.MaxEpochs;
        var dupKey = Callbacks.GroupBy(c => c.StateKey).FirstOrDefault(g => g.Count() > 1);
        if (dupKey is not null) throw new ArgumentException($"two callbacks share the state key '{dupKey.Key}'; override StateKey");
    }

    public TrainerOptions Options { get; }
    public List<Callback> Callbacks { get; }
    public List<TrainingLogger> Loggers { get; }
    /// <summary>The trainer's own seedable generator (saved in checkpoints); modules may draw from it.</summary>
    public StrixRandom Random { get; }
    public Device Device { get; private set; } = CPU;
    public PrecisionMode Precision { get; private set; }
    public Optimizer? Optimizer { get; private set; }
    public LrScheduler? Scheduler { get; private set; }
    public ModelEma? Ema { get; private set; }
    public GradScaler? Scaler { get; private set; }

    /// <summary>0-based current epoch.</summary>
    public int Epoch { get; private set; }
    /// <summary>Epochs planned (Options.MaxEpochs; re-fitted under a time budget).</summary>
    public int MaxEpochs { get; set; }
    public int EpochsCompleted { get; private set; }
    public int BatchesPerEpoch { get; private set; }
    public int ValBatches { get; private set; }
    /// <summary>Index of the current batch in its epoch.</summary>
    public int BatchIdx { get; private set; }
    /// <summary>Global batch index <c>epoch·nb + i</c> (Ultralytics' <c>ni</c>).</summary>
    public long Iteration { get; private set; }
    /// <summary>Optimizer steps taken.</summary>
    public long GlobalStep { get; private set; }
    /// <summary>Gradient accumulation in effect for the current batch.</summary>
    public int Accumulate { get; private set; } = 1;
    public TrainerPhase Phase { get; private set; }
    public bool FastDevRun => Options.FastDevRun;
    /// <summary>Loss of the last training batch (NaN/Inf when it was skipped).</summary>
    public double LastLoss { get; private set; } = double.NaN;
    /// <summary>Set by callbacks (early stopping) to end training after the current epoch.</summary>
    public bool ShouldStop { get; set; }
    public string StopReason { get; private set; } = "";
    /// <summary>True when training stopped with part of an epoch done (its checkpoint resumes mid-epoch).</summary>
    public bool IsMidEpoch => _batchesDone > 0 && !_epochDone;
    /// <summary>True when validation ran in the current epoch.</summary>
    public bool ValidatedThisEpoch => _validatedThisEpoch;
    /// <summary>Training time including earlier sessions of a resumed run.</summary>
    public TimeSpan TrainTime => TimeSpan.FromSeconds(_trainSecondsBefore + _clock.Elapsed.TotalSeconds);
    public string? DefaultRootDir => Options.DefaultRootDir;
    /// <summary>Time this fit spent blocked waiting for the next training batch.</summary>
    public TimeSpan DataWaitTime => _dataWait.Elapsed;
    /// <summary>Time this fit spent in training batches, waiting for data included.</summary>
    public TimeSpan TrainBatchTime => _batchTime.Elapsed;
    /// <summary>Fraction of training-batch time spent waiting for data (the input pipeline's cost to the loop).</summary>
    public double DataWaitFraction => _batchTime.Elapsed.TotalSeconds > 0 ? _dataWait.Elapsed.TotalSeconds / _batchTime.Elapsed.TotalSeconds : 0;
    public StrixModule Module => _module ?? throw new InvalidOperationException("the trainer is not running a module");

    /// <summary>The epoch's metrics so far: training means, then validation metrics, then end-of-epoch values (learning rates).</summary>
    public IReadOnlyDictionary<string, double> CallbackMetrics =>
        MetricRow().ToDictionary(kv => kv.Key, kv => kv.Value);

    /// <summary>What a progress bar shows for the current phase.</summary>
    public IReadOnlyList<KeyValuePair<string, double>> ProgressBarMetrics =>
        (Phase == TrainerPhase.Validate ? _valMetrics : _trainMetrics).ProgressValues().ToList();

    /// <summary>Where the trainer and modules write notices (Options.Log, default standard error).</summary>
    public TextWriter Out => Options.Log ?? Console.Error;

    /// <summary>How training is spread over processes (<see cref="TrainerOptions.Strategy"/>; default one device).</summary>
    public Strategy Strategy => Options.Strategy ?? SingleDeviceStrategy.Instance;
    /// <summary>True on the process that logs and writes checkpoints (always, without a distributed strategy).</summary>
    public bool IsGlobalZero => Strategy.IsGlobalZero;
    /// <summary>Callbacks this rank runs: under DDP, <see cref="IRankZeroOnly"/> ones only on rank 0.</summary>
    IEnumerable<Callback> ActiveCallbacks => IsGlobalZero ? Callbacks : Callbacks.Where(c => c is not IRankZeroOnly);
    /// <summary>Loggers write on rank 0 only.</summary>
    IEnumerable<TrainingLogger> ActiveLoggers => IsGlobalZero ? Loggers : Enumerable.Empty<TrainingLogger>();

    /// <summary>Writes a warning to the trainer's log (skipped steps, recoveries).</summary>
    public void Warn(string message) => Out.WriteLine($"WARNING ⚠️ {message}");

    /// <summary>Writes a notice to the trainer's log (resume, checkpoints written on stop, early stopping).</summary>
    public void Print(string message) => Out.WriteLine(message);

    /// <summary>Ends training after the current epoch (early stopping); <paramref name="reason"/> goes into the result.</summary>
    public void Stop(string reason)
    {
        ShouldStop = true;
        if (StopReason.Length == 0) StopReason = reason;
    }

    /// <summary>Asks the loop to stop after the current batch and save a resumable checkpoint (thread-safe; used by signal handlers).</summary>
    public void RequestStop(string reason) => _stopRequest ??= reason;
    public bool StopRequested => _stopRequest is not null;

    /// <summary>Records a scalar for the current phase (see <see cref="StrixModule.Log(string, double, bool, bool, bool)"/>).</summary>
    public void Log(string name, double value, bool progBar = false, bool onStep = false, bool onEpoch = true)
    {
        if (_pending is not null) { _pending.Add((name, value, progBar, onStep, onEpoch)); return; }
        Commit(name, value, progBar, onStep, onEpoch);
    }

    void Commit(string name, double value, bool progBar, bool onStep, bool onEpoch)
    {
        var target = Phase switch
        {
            TrainerPhase.Validate => _valMetrics,
            TrainerPhase.EpochEnd => _epochEndMetrics,
            _ => _trainMetrics,
        };
        target.Add(name, value, progBar, onEpoch);
        if (onStep && !FastDevRun)
            foreach (var l in ActiveLoggers) l.LogStep(GlobalStep, new[] { KeyValuePair.Create(name, value) });
    }

    IEnumerable<KeyValuePair<string, double>> MetricRow()
    {
        var seen = new HashSet<string>();
        foreach (var src in new[] { _trainMetrics, _valMetrics, _epochEndMetrics })
            foreach (var kv in src.EpochValues())
                if (seen.Add(kv.Key)) yield return kv;
    }

    /// <summary>
    /// Trains <paramref name="module"/> on <paramref name="train"/>, validating on <paramref name="val"/>.
    /// With <paramref name="ckptPath"/> the run continues exactly where that checkpoint left off.
    /// </summary>
    public FitResult Fit<TBatch>(StrixModule<TBatch> module, IBatchSource<TBatch> train, IBatchSource<TBatch>? val = null, string? ckptPath = null)
    {
        if (_module is not null) throw new InvalidOperationException("this trainer is already running");
        _module = module;
        module.Attach(this);
        ResetState();
        train = Strategy.TrainSource(train);      // this rank's shard (DDP)
        if (val is not null) val = Strategy.ValSource(val);
        using var signals = Options.HandleSignals ? SignalGuard.Register(this) : null;
        try
        {
            Setup(module, train, val);
            Call(m => m.Setup("fit"), c => c.Setup(this, module, "fit"));
            if (ckptPath is not null)
            {
                using var ck = Checkpoint.Load(ckptPath);
                Restore(module, ck, ckptPath);
                Strategy.OnRestored(module.Model);
                if (!IsGlobalZero) { _trainMetrics.Clear(); _valMetrics.Clear(); } // rank 0's partial sums count once
            }
            Call(m => m.OnFitStart(), c => c.OnFitStart(this, module));
            var overfit = Options.OverfitBatches > 0 && !FastDevRun ? train.GetEpoch(0).Take(BatchesPerEpoch).ToList() : null;
            Call(m => m.OnTrainStart(), c => c.OnTrainStart(this, module));
            if (_rngToRestore is not null) { random.set_rng_state(_rngToRestore); _rngToRestore.Dispose(); _rngToRestore = null; }
            _lastGood = Snapshot.Take(this, module);
            _clock.Restart();

            while (Epoch < MaxEpochs && !_stopNow && !ShouldStop)
            {
                TrainEpoch(module, train, overfit);
                if (_stopNow) break;
                bool final = Epoch + 1 >= MaxEpochs || ShouldStop;
                if (val is not null && _anyValBatches && (Options.Val || final)) ValidateEpoch(module, val);
                EndEpoch(module);
            }
            if (StopReason.Length == 0) StopReason = Epoch >= MaxEpochs ? "max_epochs" : "stopped";
            Phase = TrainerPhase.Idle;
            Call(m => m.OnTrainEnd(), c => c.OnTrainEnd(this, module));
            Call(m => m.OnFitEnd(), c => c.OnFitEnd(this, module));
            Strategy.Barrier();
            _clock.Stop();
            return new FitResult(EpochsCompleted, GlobalStep, StopReason, _stopRequest is not null, CallbackMetrics, TrainTime);
        }
        catch (Exception e)
        {
            foreach (var c in ActiveCallbacks)
                try { c.OnException(this, module, e); } catch (Exception inner) { Warn($"{c.GetType().Name}.OnException failed: {inner.Message}"); }
            throw;
        }
        finally
        {
            _clock.Stop();
            try { Call(m => m.Teardown("fit"), c => c.Teardown(this, module, "fit")); }
            finally
            {
                foreach (var l in ActiveLoggers) l.Finish();
                _lastGood?.Dispose();
                _lastGood = null;
                Phase = TrainerPhase.Idle;
                _module = null;
            }
        }
    }

    /// <summary>
    /// Runs one validation pass (Lightning's <c>trainer.validate</c>): the module's validation hooks and
    /// the callbacks' validation hooks, in eval mode under no_grad, with the trainer's precision. Returns
    /// what the module logged.
    /// </summary>
    public IReadOnlyDictionary<string, double> Validate<TBatch>(StrixModule<TBatch> module, IBatchSource<TBatch> val)
    {
        if (_module is not null) throw new InvalidOperationException("this trainer is already running");
        _module = module;
        module.Attach(this);
        try
        {
            Device = Strategy.ResolveDevice(Options.Device);
            Precision = Precisions.Parse(Options.Precision);
            module.Model.to(Device);
            val = Strategy.ValSource(val); // DDP: this rank's whole batches; the module gathers the statistics
            int nv = val.Count;
            ValBatches = FastDevRun ? Math.Min(1, nv) : Options.LimitValBatches?.Apply(nv) ?? nv;
            Call(m => m.Setup("validate"), c => c.Setup(this, module, "validate"));
            ValidateEpoch(module, val);
            return _valMetrics.EpochValues().ToDictionary(kv => kv.Key, kv => kv.Value);
        }
        finally
        {
            try { Call(m => m.Teardown("validate"), c => c.Teardown(this, module, "validate")); }
            finally { Phase = TrainerPhase.Idle; _module = null; }
        }
    }

    void ResetState()
    {
        Epoch = 0; EpochsCompleted = 0; BatchIdx = 0; Iteration = 0; GlobalStep = 0;
        MaxEpochs = FastDevRun ? 1 : Options.MaxEpochs;
        ShouldStop = false; StopReason = ""; _stopRequest = null; _stopNow = false;
        _epochDone = false; _batchesDone = 0; _nonFinite = 0; _restoresWithoutProgress = 0; _lastOptIteration = -1;
        _trainSecondsBefore = 0; _clock = new Stopwatch();
        _dataWait.Reset(); _batchTime.Reset();
        _trainMetrics.Clear(); _valMetrics.Clear(); _epochEndMetrics.Clear();
        Ema?.Dispose(); Ema = null; Scaler = null; Optimizer = null; Scheduler = null;
    }

    void Setup<TBatch>(StrixModule<TBatch> module, IBatchSource<TBatch> train, IBatchSource<TBatch>? val)
    {
        Device = Strategy.ResolveDevice(Options.Device);
        Precision = Precisions.Parse(Options.Precision);
        if (Options.Seed is long seed)
        {
            Seeding.SeedEverything(seed, Options.Deterministic);
            Random.Reseed(seed);
        }
        else if (Options.Deterministic) Seeding.SetDeterministic(true);
        if (Options.AccumulateGradBatches < 1) throw new ArgumentException("AccumulateGradBatches must be ≥ 1");
        module.Model.to(Device);
        module.Model.train();
        Strategy.SetupModel(module.Model); // DDP: rank 0's parameters and buffers everywhere

        int nb = train.Count;
        BatchesPerEpoch = FastDevRun ? Math.Min(1, nb)
            : Options.OverfitBatches > 0 ? Math.Min(Options.OverfitBatches, nb)
            : Options.LimitTrainBatches?.Apply(nb) ?? nb;
        if (BatchesPerEpoch == 0) throw new ArgumentException("the training data has no batches (check the dataset, fraction and limit_train_batches)");
        int nv = val?.Count ?? 0;
        ValBatches = FastDevRun ? Math.Min(1, nv)
            : Options.OverfitBatches > 0 ? Math.Min(Options.OverfitBatches, nv)
            : Options.LimitValBatches?.Apply(nv) ?? nv;

        // Under DDP a rank's validation shard may be empty; every rank still runs validation (it gathers).
        _anyValBatches = Strategy.IsDistributed ? Strategy.AnyRank(ValBatches > 0)[0] : ValBatches > 0;

        var cfg = module.ConfigureOptimizers() ?? throw new InvalidOperationException($"{module.GetType().Name}.ConfigureOptimizers returned null");
        Optimizer = cfg.Optimizer;
        Scheduler = cfg.Scheduler;
        Scaler = Precision == PrecisionMode.Fp16Mixed ? new GradScaler() : null;
        Ema = Options.Ema ? new ModelEma(module.Model, Options.EmaDecay, Options.EmaTau) : null;
    }

    void TrainEpoch<TBatch>(StrixModule<TBatch> module, IBatchSource<TBatch> train, List<TBatch>? overfit)
    {
        Phase = TrainerPhase.Train;
        _epochDone = false;
        _validatedThisEpoch = false;
        int start = _batchesDone;
        if (start == 0) { _trainMetrics.Clear(); _epochEndMetrics.Clear(); }
        module.Model.train();
        Call(m => m.OnTrainEpochStart(), c => c.OnTrainEpochStart(this, module));
        bool owned = overfit is null && train is not IBorrowedBatches;
        var batches = overfit is not null ? overfit.Skip(start) : train.GetEpoch(Epoch, start);
        using var it = batches.GetEnumerator();
        for (int i = start; i < BatchesPerEpoch; i++)
        {
            _batchTime.Start();
            _dataWait.Start();
            bool more = it.MoveNext();
            _dataWait.Stop();
            if (!more)
            {
                _batchTime.Stop();
                Warn($"the training data ended after {i} of {BatchesPerEpoch} batches in epoch {Epoch + 1}");
                break;
            }
            var raw = it.Current;
            BatchIdx = i;
            Iteration = (long)Epoch * BatchesPerEpoch + i;
            var step = new ScheduleStep(Iteration, Epoch, MaxEpochs, BatchesPerEpoch);
            Scheduler?.Apply(step);
            Accumulate = Scheduler?.AccumulateAt(step) ?? Options.AccumulateGradBatches;
            var batch = module.TransferBatchToDevice(raw, Device);
            try
            {
                module.OnTrainBatchStart(batch, i);
                foreach (var c in ActiveCallbacks) c.OnTrainBatchStart(this, module, batch, i);
                TrainBatch(module, batch, i);
                module.OnTrainBatchEnd(LastLoss, batch, i);
                foreach (var c in ActiveCallbacks) c.OnTrainBatchEnd(this, module, LastLoss, batch, i);
            }
            finally
            {
                if (!ReferenceEquals(batch, raw)) (batch as IDisposable)?.Dispose();
                if (owned) (raw as IDisposable)?.Dispose();
                _batchTime.Stop();
            }
            _batchesDone = i + 1;
            if (CheckStopMidEpoch(lastBatch: i + 1 >= BatchesPerEpoch)) break;
        }
    }

    /// <summary>Stop requests between batches. Returns true to leave the batch loop.</summary>
    bool CheckStopMidEpoch(bool lastBatch)
    {
        bool stopRequested = _stopRequest is not null;
        bool timeUp = Options.TimeHours is double hours && TrainTime.TotalHours > hours;
        if (Strategy.IsDistributed) // ranks must leave the loop after the same batch
        {
            var any = Strategy.AnyRank(stopRequested, timeUp);
            if (any[0] && !stopRequested) _stopRequest ??= "stop requested on another rank";
            (stopRequested, timeUp) = (any[0], any[1]);
        }
        string? reason = stopRequested ? _stopRequest
            : Options.MaxSteps is long ms && GlobalStep >= ms ? "max_steps" : null;
        if (reason is not null)
        {
            StopReason = reason;
            if (lastBatch) { ShouldStop = true; return false; } // finish the epoch normally (validation, checkpoint)
            _stopNow = true;
            return true;
        }
        if (timeUp)
        {
            // Ultralytics: the time budget ends the epoch early; it is validated and saved as complete.
            StopReason = "time";
            ShouldStop = true;
            return true;
        }
        return false;
    }

    void TrainBatch<TBatch>(StrixModule<TBatch> module, TBatch batch, int i)
    {
        using (var scope = NewDisposeScope())
        {
            Tensor loss;
            _pending = new();
            try
            {
                using (Precision.AutocastDType() is ScalarType dt ? Autocast.Enable(dt) : null)
                    loss = module.TrainingStep(batch, i);
            }
            catch { _pending = null; throw; }
            var logs = _pending;
            _pending = null;
            if (loss is null) throw new InvalidOperationException($"{module.GetType().Name}.TrainingStep returned null");
            if (loss.numel() != 1) throw new InvalidOperationException($"{module.GetType().Name}.TrainingStep must return a scalar loss, got shape [{string.Join(", ", loss.shape)}]");
            LastLoss = loss.detach().cpu().to(ScalarType.Float64).item<double>();
            bool finite = double.IsFinite(LastLoss);
            // Under DDP every rank skips a batch that any rank could not use, so all take the same steps.
            bool allFinite = Strategy.IsDistributed ? !Strategy.AnyRank(!finite)[0] : finite;
            if (!allFinite)
            {
                OnNonFinite(module, finite
                    ? $"non-finite loss on another rank at epoch {Epoch + 1}, batch {i}: step skipped"
                    : $"non-finite loss ({LastLoss}) at epoch {Epoch + 1}, batch {i}: step skipped");
            }
            else
            {
                _nonFinite = 0;
                foreach (var l in logs) Commit(l.Name, l.Value, l.ProgBar, l.OnStep, l.OnEpoch);
                Call(m => m.OnBeforeBackward(loss), c => c.OnBeforeBackward(this, module, loss));
                var toBackward = Scaler?.ScaleLoss(loss) ?? loss;
                toBackward.backward();
                Call(m => m.OnAfterBackward(), c => c.OnAfterBackward(this, module));
            }
        }
        if (Iteration - _lastOptIteration >= Accumulate) OptimizerStep(module);
    }

    void OptimizerStep(StrixModule module)
    {
        var opt = Optimizer!;
        _lastOptIteration = Iteration;
        if (!opt.NamedParameters.Any(p => p.Param.grad is not null)) return; // nothing accumulated (all skipped)
        Call(m => m.OnBeforeOptimizerStep(opt), c => c.OnBeforeOptimizerStep(this, module, opt));
        bool stepped;
        using (var scope = NewDisposeScope())
        {
            var ps = opt.NamedParameters.Select(p => p.Param).ToList();
            Strategy.ReduceGradients(ps); // DDP: average over ranks before unscaling and clipping
            Scaler?.Unscale(opt);
            Tensor? norm = Options.GradientClipVal is double clip ? GradientClipping.ClipGradNorm(ps, clip) : null;
            if (Scaler is not null)
            {
                stepped = Scaler.Step(opt); // an overflow is routine with fp16: the scaler backs off
                Scaler.Update();
            }
            else if (norm is not null && !double.IsFinite(norm.to(ScalarType.Float64).item<double>()))
            {
                stepped = false;
                OnNonFinite(module, $"non-finite gradient norm at epoch {Epoch + 1}, batch {BatchIdx}: step skipped");
            }
            else
            {
                opt.Step();
                stepped = true;
            }
        }
        opt.ZeroGrad();
        if (stepped)
        {
            Ema?.Update(module.Model);
            GlobalStep++;
            _restoresWithoutProgress = 0;
        }
    }

    void OnNonFinite(StrixModule module, string message)
    {
        _nonFinite++;
        Warn(message);
        if (_nonFinite < Options.NonFiniteTolerance) return;
        if (++_restoresWithoutProgress > 3)
            throw new InvalidOperationException($"training diverged: non-finite values persisted after {_restoresWithoutProgress - 1} restores of the last good weights");
        _lastGood!.Restore(this, module);
        Optimizer!.ZeroGrad();
        _lastOptIteration = Iteration;
        _nonFinite = 0;
        Warn($"{Options.NonFiniteTolerance} consecutive non-finite steps: restored the last good weights, EMA and optimizer state (from {_lastGood.Description})");
    }

    void ValidateEpoch<TBatch>(StrixModule<TBatch> module, IBatchSource<TBatch> val)
    {
        Phase = TrainerPhase.Validate;
        _valMetrics.Clear();
        var model = module.Model;
        model.eval();
        try
        {
            using var swap = Ema?.SwapInto(model);
            using var noGrad = no_grad();
            Call(m => m.OnValidationStart(), c => c.OnValidationStart(this, module));
            Call(m => m.OnValidationEpochStart(), c => c.OnValidationEpochStart(this, module));
            bool owned = val is not IBorrowedBatches;
            using var it = val.GetEpoch(Options.OverfitBatches > 0 ? 0 : Epoch).GetEnumerator();
            for (int i = 0; i < ValBatches && it.MoveNext(); i++)
            {
                var raw = it.Current;
                var batch = module.TransferBatchToDevice(raw, Device);
                try
                {
                    module.OnValidationBatchStart(batch, i);
                    foreach (var c in ActiveCallbacks) c.OnValidationBatchStart(this, module, batch, i);
                    using (var scope = NewDisposeScope())
                    using (Precision.AutocastDType() is ScalarType dt ? Autocast.Enable(dt) : null)
                        module.ValidationStep(batch, i);
                    module.OnValidationBatchEnd(batch, i);
                    foreach (var c in ActiveCallbacks) c.OnValidationBatchEnd(this, module, batch, i);
                }
                finally
                {
                    if (!ReferenceEquals(batch, raw)) (batch as IDisposable)?.Dispose();
                    if (owned) (raw as IDisposable)?.Dispose();
                }
            }
            Strategy.SyncMetrics(_valMetrics); // DDP: batch means over every rank's share
            Call(m => m.OnValidationEpochEnd(), c => c.OnValidationEpochEnd(this, module));
            Call(m => m.OnValidationEnd(), c => c.OnValidationEnd(this, module));
            _validatedThisEpoch = true;
        }
        finally
        {
            model.train();
            Phase = TrainerPhase.Train;
        }
    }

    void EndEpoch(StrixModule module)
    {
        Phase = TrainerPhase.EpochEnd;
        _epochEndMetrics.Clear();
        Strategy.SyncMetrics(_trainMetrics);
        Call(m => m.OnTrainEpochEnd(), c => c.OnTrainEpochEnd(this, module));
        _epochDone = true;
        EpochsCompleted = Epoch + 1;
        if (!FastDevRun)
        {
            var row = MetricRow().ToList();
            foreach (var l in ActiveLoggers) l.LogEpoch(EpochsCompleted, row);
        }
        if (Options.TimeHours is double h)
        {
            double budget = h * 3600;
            if (TrainTime.TotalSeconds > budget) { ShouldStop = true; StopReason = "time"; }
            else MaxEpochs = Math.Max(EpochsCompleted, (int)Math.Ceiling(budget / (TrainTime.TotalSeconds / Math.Max(1, EpochsCompleted))));
        }
        if (EpochsCompleted >= MaxEpochs && StopReason.Length == 0) StopReason = "max_epochs";
        Call(_ => { }, c => c.OnEpochEnd(this, module));
        if (Strategy.IsDistributed)
        {
            // Rank 0 decides (time budget, early stopping); then everybody waits for its checkpoint.
            var d = Strategy.FromRankZero(new EpochDecision(MaxEpochs, ShouldStop, StopReason));
            (MaxEpochs, ShouldStop, StopReason) = (d.MaxEpochs, d.ShouldStop, d.StopReason);
            Strategy.Barrier();
        }
        _lastGood?.Dispose();
        _lastGood = Snapshot.Take(this, module);
        Epoch++;
        _batchesDone = 0;
        _epochDone = false;
        Phase = TrainerPhase.Train;
    }

    sealed record EpochDecision(int MaxEpochs, bool ShouldStop, string StopReason);

    void Call(Action<StrixModule> moduleHook, Action<Callback> callbackHook)
    {
        moduleHook(Module);
        foreach (var c in ActiveCallbacks) callbackHook(c);
    }

    // ---------------------------------------------------------------- checkpoints

    /// <summary>
    /// The run's state now. <paramref name="resumable"/> adds optimizer state, pending gradients, the
    /// RNG state and counters needed to continue exactly; without it the file is for deployment (best).
    /// </summary>
    public Checkpoint CreateCheckpoint(bool resumable = true)
    {
        var module = Module;
        var ck = new Checkpoint();
        var sd = module.Model.state_dict();
        if (Ema is not null)
        {
            foreach (var (k, v) in Ema.State) ck.Weights[k] = v.detach();
            if (resumable) ck.ModelWeights = sd.ToDictionary(kv => kv.Key, kv => kv.Value.detach());
        }
        else foreach (var (k, v) in sd) ck.Weights[k] = v.detach();

        int resumeEpoch = _epochDone ? Epoch + 1 : Epoch;
        int resumeBatch = _epochDone ? 0 : _batchesDone;
        var t = new JsonObject
        {
            ["resumable"] = resumable,
            ["epoch"] = resumeEpoch,
            ["batch"] = resumeBatch,
            ["epochs_completed"] = EpochsCompleted,
            ["max_epochs"] = MaxEpochs,
            ["global_step"] = GlobalStep,
            ["batches_per_epoch"] = BatchesPerEpoch,
            ["train_seconds"] = TrainTime.TotalSeconds,
            ["precision"] = Precision.Name(),
            ["device"] = Device.ToString(),
            ["metrics"] = new JsonObject(MetricRow().Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value)))),
        };
        if (Ema is not null) t["ema"] = Ema.StateDict();
        if (resumable)
        {
            var opt = Optimizer!;
            foreach (var (k, v) in opt.StateTensors()) ck.OptimizerState[k] = v.detach();
            bool pending = _batchesDone > 0 && Iteration > _lastOptIteration;
            if (pending)
                foreach (var (name, p) in opt.NamedParameters)
                    if (p.grad is Tensor g) ck.Gradients[name] = g.detach();
            ck.TorchRngState = random.get_rng_state();
            t["last_opt_iteration"] = _lastOptIteration;
            t["iteration"] = Iteration;
            t["non_finite"] = _nonFinite;
            t["optimizer"] = new JsonObject { ["name"] = opt.Name, ["groups"] = opt.GroupsState() };
            if (Scheduler is not null) t["scheduler"] = Scheduler.StateDict();
            if (Scaler is not null) t["scaler"] = Scaler.StateDict();
            t["random"] = Random.GetState();
            t["seed"] = Options.Seed;
            t["train_metrics"] = _trainMetrics.ToJson();
            t["val_metrics"] = _valMetrics.ToJson();
            t["validated_this_epoch"] = _validatedThisEpoch;
        }
        ck.Trainer = t;
        foreach (var c in Callbacks)
            if (c.StateDict() is JsonObject s) ck.Callbacks[c.StateKey] = s;
        module.OnSaveCheckpoint(ck);
        foreach (var c in Callbacks) c.OnSaveCheckpoint(this, module, ck);
        return ck;
    }

    /// <summary>Writes <see cref="CreateCheckpoint"/> to <paramref name="path"/> atomically.</summary>
    public void SaveCheckpoint(string path, bool resumable = true)
    {
        using var ck = CreateCheckpoint(resumable);
        ck.Save(path);
    }

    void Restore(StrixModule module, Checkpoint ck, string path)
    {
        if (!ck.IsResumable)
            throw new InvalidDataException($"{path}: not a resumable checkpoint (it holds weights only); resume from weights/last.safetensors");
        var t = ck.Trainer;
        using (no_grad())
        {
            var source = ck.ModelWeights ?? ck.Weights;
            LoadInto(module.Model, source, path);
            if (Ema is not null)
            {
                long updates = (long?)t["ema"]?["updates"] ?? 0;
                if (ck.ModelWeights is not null) Ema.Load(ck.Weights, updates);
                else Ema.Load(source, 0);
            }
        }
        var opt = Optimizer!;
        var optJson = t["optimizer"]?.AsObject() ?? throw new InvalidDataException($"{path}: checkpoint lacks optimizer state");
        if ((string?)optJson["name"] != opt.Name)
            Warn($"{path} was trained with {(string?)optJson["name"]}, this run uses {opt.Name}: optimizer state not restored");
        else
            opt.LoadState(optJson["groups"]!.AsArray(), ck.OptimizerState);
        var byName = opt.NamedParameters.ToDictionary(p => p.Name, p => p.Param);
        foreach (var (name, g) in ck.Gradients)
        {
            if (!byName.TryGetValue(name, out var p)) throw new InvalidDataException($"{path}: pending gradient for unknown parameter '{name}'");
            using var scope = NewDisposeScope(); // holds the moved copy while clone reads it
            p.grad = g.to(p.device).clone().DetachFromDisposeScope();
        }
        if (Scaler is not null && t["scaler"] is JsonObject sc) Scaler.LoadStateDict(sc);
        if (Scheduler is not null && t["scheduler"] is JsonObject sch) Scheduler.LoadStateDict(sch);
        if (t["random"] is JsonArray r) Random.SetState(r);
        _rngToRestore = ck.TorchRngState?.clone();
        if (cuda.is_available() && Device.type == DeviceType.CUDA)
            cuda.manual_seed_all((Options.Seed ?? 0) + GlobalStep); // libtorch exposes no CUDA generator state to .NET

        Epoch = (int)t["epoch"]!;
        _batchesDone = (int)t["batch"]!;
        EpochsCompleted = (int)t["epochs_completed"]!;
        GlobalStep = (long)t["global_step"]!;
        _lastOptIteration = (long)t["last_opt_iteration"]!;
        _nonFinite = (int?)t["non_finite"] ?? 0;
        _trainSecondsBefore = (double?)t["train_seconds"] ?? 0;
        _validatedThisEpoch = (bool?)t["validated_this_epoch"] ?? false;
        int savedNb = (int)t["batches_per_epoch"]!;
        if (savedNb != BatchesPerEpoch)
            Warn($"{path} was trained with {savedNb} batches per epoch, this run has {BatchesPerEpoch}: iteration-based schedules shift");
        if (_batchesDone > 0) { _trainMetrics.Load(t["train_metrics"] as JsonArray); _valMetrics.Load(t["val_metrics"] as JsonArray); }
        if (Options.TimeHours is null) MaxEpochs = FastDevRun ? 1 : Options.MaxEpochs;
        else MaxEpochs = Math.Max((int?)t["max_epochs"] ?? Options.MaxEpochs, Epoch + 1);
        if (Epoch >= MaxEpochs)
            throw new ArgumentException($"{path}: training to {MaxEpochs} epochs is finished ({EpochsCompleted} done), nothing to resume; pass a larger epochs= to extend it");

        foreach (var c in Callbacks)
            if (ck.Callbacks[c.StateKey] is JsonObject s) c.LoadStateDict(s);
        module.OnLoadCheckpoint(ck);
        foreach (var c in Callbacks) c.OnLoadCheckpoint(this, module, ck);
        foreach (var l in ActiveLoggers) l.OnResume(EpochsCompleted);
        Print($"Resuming training from {path}: epoch {Epoch + 1}{(_batchesDone > 0 ? $", batch {_batchesDone}" : "")} of {MaxEpochs}, step {GlobalStep}");
    }

    /// <summary>Copies a state dict into a model; every model entry must be present with the same shape.</summary>
    internal static void LoadInto(nn.Module model, IReadOnlyDictionary<string, Tensor> source, string path)
    {
        using var _ = no_grad();
        foreach (var (k, v) in model.state_dict())
        {
            if (!source.TryGetValue(k, out var s)) throw new InvalidDataException($"{path}: checkpoint lacks '{k}'");
            if (!s.shape.SequenceEqual(v.shape))
                throw new InvalidDataException($"{path}: '{k}' has shape [{string.Join(", ", s.shape)}], the model needs [{string.Join(", ", v.shape)}]");
            v.copy_(s);
        }
    }

    /// <summary>An in-memory copy of the last good state (weights, EMA, optimizer) for non-finite recovery.</summary>
    sealed class Snapshot : IDisposable
    {
        Dictionary<string, Tensor> _model = new(), _ema = new(), _optim = new();
        long _emaUpdates;
        JsonArray _groups = new();
        JsonObject? _scaler;
        public string Description { get; private set; } = "";

        public static Snapshot Take(Trainer t, StrixModule module)
        {
            var s = new Snapshot();
            using (no_grad())
            {
                foreach (var (k, v) in module.Model.state_dict()) s._model[k] = v.clone(); // no_grad: no history
                if (t.Ema is not null)
                {
                    foreach (var (k, v) in t.Ema.State) s._ema[k] = v.clone();
                    s._emaUpdates = t.Ema.Updates;
                }
                s._optim = t.Optimizer!.CloneState();
            }
            s._groups = t.Optimizer!.GroupsState();
            s._scaler = t.Scaler?.StateDict();
            s.Description = t.EpochsCompleted == 0 && t._batchesDone == 0 ? "the start of training" : $"the end of epoch {t.EpochsCompleted}";
            return s;
        }

        public void Restore(Trainer t, StrixModule module)
        {
            LoadInto(module.Model, _model, "snapshot");
            if (t.Ema is not null) t.Ema.Load(_ema, _emaUpdates);
            var lr = t.Optimizer!.ParamGroups.Select(g => (g.Lr, g.Momentum)).ToList();
            t.Optimizer.LoadState(_groups, _optim);
            for (int i = 0; i < lr.Count; i++) { t.Optimizer.ParamGroups[i].Lr = lr[i].Lr; t.Optimizer.ParamGroups[i].Momentum = lr[i].Momentum; }
            if (_scaler is not null) t.Scaler?.LoadStateDict(_scaler);
        }

        public void Dispose()
        {
            foreach (var d in new[] { _model, _ema, _optim }) foreach (var v in d.Values) v.Dispose();
        }
    }
}
