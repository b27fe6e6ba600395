using System.Globalization;
using System.Text.Json.Nodes;

namespace Strix.Engine.Callbacks;

/// <summary>
/// Writes checkpoints after every epoch (atomically, so a crash mid-write never damages an existing
/// file): <c>last</c> (resumable: optimizer state, RNG, counters), <c>best</c> when the monitored metric
/// improves (weights and metadata only), and <c>epochN</c> every <c>save_period</c> epochs (weights only).
/// A run stopped mid-epoch (signal, max_steps) writes <c>last</c> at train end. Silent in fast_dev_run.
/// </summary>
public sealed class ModelCheckpoint : Callback, Strategies.IRankZeroOnly
{
    readonly string? _dirpath;
    string? _dir;

    /// <param name="dirpath">Folder for the files (default: <c>{DefaultRootDir}/weights</c>).</param>
    /// <param name="monitor">Metric that decides <c>best</c> (YOLO: "fitness").</param>
    /// <param name="mode">"max" or "min".</param>
    /// <param name="saveLast">Write the resumable <c>last</c> checkpoint every epoch.</param>
    /// <param name="extension">File extension of the checkpoints.</param>
    /// <param name="savePeriod">Also save <c>epochN</c> every N epochs (≤ 0: never), N 1-based.</param>
    public ModelCheckpoint(string? dirpath = null, string monitor = "fitness", string mode = "max", bool saveLast = true,
        int savePeriod = -1, string extension = ".safetensors")
    {
        if (mode is not ("max" or "min")) throw new ArgumentException($"mode must be 'max' or 'min', not '{mode}'");
        _dirpath = dirpath;
        Monitor = monitor;
        Mode = mode;
        SaveLast = saveLast;
        SavePeriod = savePeriod;
        Extension = extension;
    }

    public string Monitor { get; }
    public string Mode { get; }
    public bool SaveLast { get; }
    public int SavePeriod { get; }
    public string Extension { get; }
    public double? BestScore { get; private set; }
    public int BestEpoch { get; private set; }
    public string Dir => _dir ?? throw new InvalidOperationException("ModelCheckpoint has not been set up by a trainer yet");
    public string LastPath => Path.Combine(Dir, "last" + Extension);
    public string BestPath => Path.Combine(Dir, "best" + Extension);
    /// <summary>Files written so far in this run (in order).</summary>
    public List<string> Saved { get; } = new();

    public override void Setup(Trainer trainer, StrixModule module, string stage) =>
        _dir = Path.GetFullPath(_dirpath ?? Path.Combine(trainer.DefaultRootDir ?? ".", "weights"));

    public override void OnEpochEnd(Trainer trainer, StrixModule module)
    {
        if (trainer.FastDevRun) return;
        bool improved = false;
        if (trainer.ValidatedThisEpoch && trainer.CallbackMetrics.TryGetValue(Monitor, out var score) && !double.IsNaN(score))
        {
            improved = BestScore is not double b || (Mode == "max" ? score > b : score < b);
            if (improved) { BestScore = score; BestEpoch = trainer.EpochsCompleted; }
        }
        if (SaveLast) Save(trainer, LastPath, resumable: true);
        if (improved) Save(trainer, BestPath, resumable: false);
        if (SavePeriod > 0 && trainer.EpochsCompleted % SavePeriod == 0)
            Save(trainer, Path.Combine(Dir, $"epoch{trainer.EpochsCompleted.ToString(CultureInfo.InvariantCulture)}{Extension}"), resumable: false);
    }

    public override void OnTrainEnd(Trainer trainer, StrixModule module)
    {
        if (trainer.FastDevRun || !SaveLast || !trainer.IsMidEpoch) return;
        Save(trainer, LastPath, resumable: true);
        trainer.Print($"Saved {LastPath} at epoch {trainer.Epoch + 1}, step {trainer.GlobalStep} ({trainer.StopReason}); resume with it to continue.");
    }

    void Save(Trainer trainer, string path, bool resumable)
    {
        trainer.SaveCheckpoint(path, resumable);
        Saved.Add(path);
    }

    public override JsonObject? StateDict() => new()
    {
        ["monitor"] = Monitor, ["mode"] = Mode, ["best_score"] = BestScore, ["best_epoch"] = BestEpoch,
        ["dir"] = _dir,
    };

    public override void LoadStateDict(JsonObject state)
    {
        if ((string?)state["monitor"] != Monitor) return; // a different metric: start over
        BestScore = (double?)state["best_score"];
        BestEpoch = (int?)state["best_epoch"] ?? 0;
    }
}
