using Strix.Engine.Loggers;
using Strix.Engine.Optim;
using Strix.Engine.Precision;
using Strix.Engine.Strategies;
using static TorchSharp.torch;

namespace Strix.Engine;

/// <summary>The trainer's state as modules, callbacks and loggers read it, and the logging and stopping calls they make.</summary>
public sealed partial class Trainer
{
    public TrainerOptions Options { get; }
    public List<Callback> Callbacks { get; }
    public List<TrainingLogger> Loggers { get; }
    public Device Device { get; private set; } = CPU;
    /// <summary>Autocast, loss scaling and the guarded optimizer step for <see cref="TrainerOptions.Precision"/>.</summary>
    public PrecisionPlugin PrecisionPlugin { get; private set; } = new Fp32Precision();
    public PrecisionMode Precision => PrecisionPlugin.Mode;
    public Optimizer? Optimizer { get; private set; }
    public LrScheduler? Scheduler { get; private set; }
    public ModelEma? Ema { get; private set; }
    /// <summary>The fp16 loss scaler (null unless precision is fp16-mixed).</summary>
    public GradScaler? Scaler => (PrecisionPlugin as MixedPrecision)?.Scaler;

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
        _logged.Row().ToDictionary(kv => kv.Key, kv => kv.Value);

    /// <summary>What a progress bar shows for the current phase.</summary>
    public IReadOnlyList<KeyValuePair<string, double>> ProgressBarMetrics =>
        (Phase == TrainerPhase.Validate ? _logged.Val : _logged.Train).ProgressValues().ToList();

    /// <summary>Where the trainer and modules write notices (Options.Log, default standard error).</summary>
    public TextWriter Out => Options.Log ?? Console.Error;

    /// <summary>How training is spread over processes (<see cref="TrainerOptions.Strategy"/>; default one device).</summary>
    public Strategy Strategy => Options.Strategy ?? SingleDeviceStrategy.Instance;
    /// <summary>Times the loop's actions; modules may add their own (<c>using (Trainer.Profiler.Profile("training_step/forward"))</c>).</summary>
    public Profilers.Profiler Profiler => Options.Profiler ?? Profilers.Profiler.None;
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
        var e = new LoggedMetrics.Entry(name, value, progBar, onStep, onEpoch);
        if (!_logged.TryHold(e)) Commit(e);
    }

    void Commit(LoggedMetrics.Entry e)
    {
        _logged.For(Phase).Add(e.Name, e.Value, e.ProgBar, e.OnEpoch);
        if (e.OnStep && !FastDevRun)
            foreach (var l in ActiveLoggers) l.LogStep(GlobalStep, new[] { KeyValuePair.Create(e.Name, e.Value) });
    }
}
