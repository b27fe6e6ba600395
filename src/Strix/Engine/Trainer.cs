using Strix.Runtime;
using System.Diagnostics;
using Strix.Engine.Loggers;
using Strix.Engine.Optim;
using Strix.Engine.Precision;
using Strix.Engine.Profilers;
using Strix.Engine.Strategies;
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
/// and time budget, device, gradient accumulation and clipping, the EMA of the weights, the
/// non-finite-loss guard, callbacks, loggers and SIGINT/SIGTERM handling. Precision is a
/// <see cref="Precision.PrecisionPlugin"/>, checkpoint contents are the <see cref="CheckpointConnector"/>'s,
/// logged values are kept by phase in <see cref="LoggedMetrics"/>. See <see cref="Callback"/> for the order of hooks.
/// </summary>
public sealed partial class Trainer
{
    readonly LoggedMetrics _logged = new();
    readonly CheckpointConnector _checkpoints;
    StrixModule? _module;
    volatile string? _stopRequest;
    bool _stopNow, _epochDone, _validatedThisEpoch, _anyValBatches;
    int _batchesDone;
    long _lastOptIteration = -1;
    readonly DivergenceGuard _guard = new();
    Tensor? _rngToRestore;
    double _trainSecondsBefore;
    Stopwatch _clock = new();
    readonly Stopwatch _dataWait = new(), _batchTime = new();

    public Trainer(TrainerOptions? options = null, IEnumerable<Callback>? callbacks = null, IEnumerable<TrainingLogger>? loggers = null)
    {
        Options = options ?? new TrainerOptions();
        Callbacks = callbacks?.ToList() ?? new List<Callback>();
        Loggers = loggers?.ToList() ?? new List<TrainingLogger>();
        _checkpoints = new CheckpointConnector(this);
        MaxEpochs = Options.MaxEpochs;
        var dupKey = Callbacks.GroupBy(c => c.StateKey).FirstOrDefault(g => g.Count() > 1);
        if (dupKey is not null) throw new ArgumentException($"two callbacks share the state key '{dupKey.Key}'; override StateKey");
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
                if (!IsGlobalZero) { _logged.Train.Clear(); _logged.Val.Clear(); } // rank 0's partial sums count once
            }
            Call(m => m.OnFitStart(), c => c.OnFitStart(this, module));
            var overfit = Options.OverfitBatches > 0 && !FastDevRun ? train.GetEpoch(0).Take(BatchesPerEpoch).ToList() : null;
            Call(m => m.OnTrainStart(), c => c.OnTrainStart(this, module));
            if (_rngToRestore is not null) { random.set_rng_state(_rngToRestore); _rngToRestore.Dispose(); _rngToRestore = null; }
            _guard.Snapshot(this, module, SnapshotDescription());
            _clock.Restart();

            while (Epoch < MaxEpochs && !_stopNow && !ShouldStop)
            {
                TrainEpoch(module, train, overfit);
                if (_stopNow) break;
                bool final = Epoch + 1 >= MaxEpochs || ShouldStop;
                if (val is not null && _anyValBatches && (Options.Val || final))
                    using (Profiler.Profile("validation")) ValidateEpoch(module, val);
                using (Profiler.Profile("epoch_end")) EndEpoch(module);
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
                _guard.Dispose();
                Phase = TrainerPhase.Idle;
                _module = null;
            }
        }
    }

    void ResetState()
    {
        Epoch = 0; EpochsCompleted = 0; BatchIdx = 0; Iteration = 0; GlobalStep = 0;
        MaxEpochs = FastDevRun ? 1 : Options.MaxEpochs;
        ShouldStop = false; StopReason = ""; _stopRequest = null; _stopNow = false;
        _epochDone = false; _batchesDone = 0; _guard.Reset(); _lastOptIteration = -1;
        _trainSecondsBefore = 0; _clock = new Stopwatch();
        _dataWait.Reset(); _batchTime.Reset();
        _logged.Clear();
        Ema?.Dispose(); Ema = null; Optimizer = null; Scheduler = null;
    }

    void Setup<TBatch>(StrixModule<TBatch> module, IBatchSource<TBatch> train, IBatchSource<TBatch>? val)
    {
        Device = Strategy.ResolveDevice(Options.Device);
        PrecisionPlugin = PrecisionPlugin.For(Options.Precision);
        if (Options.Seed is long seed) Seeding.SeedEverything(seed, Options.Deterministic);
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
        Ema = Options.Ema ? new ModelEma(module.Model, Options.EmaDecay, Options.EmaTau) : null;
    }

    void TrainEpoch<TBatch>(StrixModule<TBatch> module, IBatchSource<TBatch> train, List<TBatch>? overfit)
    {
        Phase = TrainerPhase.Train;
        _epochDone = false;
        _validatedThisEpoch = false;
        int start = _batchesDone;
        if (start == 0) { _logged.Train.Clear(); _logged.EpochEnd.Clear(); }
        module.Model.train();
        Call(m => m.OnTrainEpochStart(), c => c.OnTrainEpochStart(this, module));
        bool owned = overfit is null && train is not IBorrowedBatches;
        var batches = overfit is not null ? overfit.Skip(start) : train.GetEpoch(Epoch, start);
        using var it = batches.GetEnumerator();
        for (int i = start; i < BatchesPerEpoch; i++)
        {
            _batchTime.Start();
            _dataWait.Start();
            bool more;
            using (Profiler.Profile("get_train_batch")) more = it.MoveNext();
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
            TBatch batch;
            using (Profiler.Profile("transfer_batch_to_device")) batch = module.TransferBatchToDevice(raw, Device);
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
            _logged.Hold();
            try
            {
                using (Profiler.Profile("training_step"))
                using (PrecisionPlugin.ForwardContext())
                    loss = module.TrainingStep(batch, i);
            }
            catch { _logged.Drop(); throw; }
            var logs = _logged.Release();
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
                _guard.OnFiniteLoss();
                foreach (var l in logs) Commit(l);
                Call(m => m.OnBeforeBackward(loss), c => c.OnBeforeBackward(this, module, loss));
                using (Profiler.Profile("backward")) PrecisionPlugin.ScaleLoss(loss).backward();
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
        StepOutcome outcome;
        using (Profiler.Profile("optimizer_step"))
        using (var scope = NewDisposeScope())
        {
            var ps = opt.NamedParameters.Select(p => p.Param).ToList();
            using (Profiler.Profile("optimizer_step/reduce_gradients")) Strategy.ReduceGradients(ps); // DDP: average over ranks before unscaling and clipping
            PrecisionPlugin.Unscale(opt);
            Tensor? norm = null;
            if (Options.GradientClipVal is double clip)
                using (Profiler.Profile("optimizer_step/clip_gradients")) norm = GradientClipping.ClipGradNorm(ps, clip);
            outcome = PrecisionPlugin.Step(opt, norm);
            if (outcome == StepOutcome.NonFiniteGradients)
                OnNonFinite(module, $"non-finite gradient norm at epoch {Epoch + 1}, batch {BatchIdx}: step skipped");
        }
        using (Profiler.Profile("zero_grad")) opt.ZeroGrad();
        if (outcome == StepOutcome.Stepped)
        {
            if (Ema is not null)
                using (Profiler.Profile("ema_update")) Ema.Update(module.Model);
            GlobalStep++;
            _guard.OnStepped();
        }
    }

    void OnNonFinite(StrixModule module, string message)
    {
        if (!_guard.OnNonFinite(this, module, message, Options.NonFiniteTolerance)) return;
        Optimizer!.ZeroGrad();
        _lastOptIteration = Iteration;
    }

    void EndEpoch(StrixModule module)
    {
        Phase = TrainerPhase.EpochEnd;
        _logged.EpochEnd.Clear();
        Strategy.SyncMetrics(_logged.Train);
        Call(m => m.OnTrainEpochEnd(), c => c.OnTrainEpochEnd(this, module));
        _epochDone = true;
        EpochsCompleted = Epoch + 1;
        if (!FastDevRun)
        {
            var row = _logged.Row().ToList();
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
        _guard.Snapshot(this, module, SnapshotDescription());
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

    string SnapshotDescription() => EpochsCompleted == 0 && _batchesDone == 0 ? "the start of training" : $"the end of epoch {EpochsCompleted}";

}
