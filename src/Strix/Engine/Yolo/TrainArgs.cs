using System.Globalization;
using Strix.Data;

namespace Strix.Engine.Yolo;

/// <summary>
/// Every argument of a YOLO training run, with Ultralytics' names and defaults (plus Lightning's
/// <c>fast_dev_run</c>, <c>overfit_batches</c>, <c>limit_*_batches</c> and <c>precision</c>).
/// <see cref="ToDictionary"/> is what <c>args.yaml</c> and checkpoints store; <see cref="FromLookup"/>
/// reads them back, so a resumed run continues with exactly the arguments it started with.
/// </summary>
public sealed record TrainArgs
{
    public string Model { get; init; } = "yolov8n";
    public string Data { get; init; } = "shapes";
    public int Epochs { get; init; } = 100;
    /// <summary>Time budget in hours (overrides epochs when set).</summary>
    public double? Time { get; init; }
    public int Patience { get; init; } = 100;
    public int Batch { get; init; } = 16;
    public int ImgSz { get; init; } = 640;
    public bool Save { get; init; } = true;
    public int SavePeriod { get; init; } = -1;
    public string Cache { get; init; } = "false";
    public string Device { get; init; } = "cpu";
    public int Workers { get; init; } = DataLoaderOptions.DefaultWorkers;
    public string Project { get; init; } = Path.Combine("runs", "detect");
    public string Name { get; init; } = "train";
    public bool ExistOk { get; init; }
    /// <summary>Start from the weights given by <see cref="Model"/> when it is a file (false: architecture only).</summary>
    public bool Pretrained { get; init; } = true;
    public string Optimizer { get; init; } = "auto";
    public int Seed { get; init; }
    public bool Deterministic { get; init; } = true;
    public bool SingleCls { get; init; }
    public bool CosLr { get; init; }
    public double Fraction { get; init; } = 1.0;
    /// <summary>Freeze the first N layers (model.0 … model.N−1).</summary>
    public int Freeze { get; init; }
    public bool Val { get; init; } = true;
    public bool Plots { get; init; } = true;
    /// <summary>"32", "bf16-mixed" or "fp16-mixed".</summary>
    public string Precision { get; init; } = "32";
    public bool FastDevRun { get; init; }
    public int OverfitBatches { get; init; }
    /// <summary>Lightning semantics: "10" = ten batches, "0.25" = a quarter of them.</summary>
    public string LimitTrainBatches { get; init; } = "1.0";
    public string LimitValBatches { get; init; } = "1.0";
    public double Lr0 { get; init; } = 0.01;
    public double Lrf { get; init; } = 0.01;
    public double Momentum { get; init; } = 0.937;
    public double WeightDecay { get; init; } = 0.0005;
    public double WarmupEpochs { get; init; } = 3.0;
    public double WarmupMomentum { get; init; } = 0.8;
    public double WarmupBiasLr { get; init; } = 0.1;
    public double Box { get; init; } = 7.5;
    public double Cls { get; init; } = 0.5;
    public double Dfl { get; init; } = 1.5;
    /// <summary>Nominal batch size: gradients are accumulated to about this many images per step.</summary>
    public int Nbs { get; init; } = 64;
    public AugmentationOptions Hyp { get; init; } = new();

    /// <summary>Argument names in the order <c>args.yaml</c> lists them.</summary>
    public static IReadOnlyList<string> Keys { get; } = new[]
    {
        "model", "data", "epochs", "time", "patience", "batch", "imgsz", "save", "save_period", "cache", "device", "workers",
        "project", "name", "exist_ok", "pretrained", "optimizer", "seed", "deterministic", "single_cls", "cos_lr", "fraction",
        "freeze", "val", "plots", "precision", "fast_dev_run", "overfit_batches", "limit_train_batches", "limit_val_batches",
        "lr0", "lrf", "momentum", "weight_decay", "warmup_epochs", "warmup_momentum", "warmup_bias_lr", "box", "cls", "dfl", "nbs",
    }.Concat(AugmentationOptions.Keys).ToArray();

    /// <summary>Every resolved argument as strings (invariant culture).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ToDictionary()
    {
        var inv = CultureInfo.InvariantCulture;
        string B(bool b) => b ? "true" : "false";
        string D(double d) => d.ToString("R", inv);
        var list = new List<KeyValuePair<string, string>>
        {
            new("model", Model), new("data", Data), new("epochs", Epochs.ToString(inv)), new("time", Time is double t ? D(t) : "null"),
            new("patience", Patience.ToString(inv)), new("batch", Batch.ToString(inv)), new("imgsz", ImgSz.ToString(inv)),
            new("save", B(Save)), new("save_period", SavePeriod.ToString(inv)), new("cache", Cache), new("device", Device),
            new("workers", Workers.ToString(inv)), new("project", Project), new("name", Name), new("exist_ok", B(ExistOk)),
            new("pretrained", B(Pretrained)), new("optimizer", Optimizer), new("seed", Seed.ToString(inv)),
            new("deterministic", B(Deterministic)), new("single_cls", B(SingleCls)), new("cos_lr", B(CosLr)),
            new("fraction", D(Fraction)), new("freeze", Freeze.ToString(inv)), new("val", B(Val)), new("plots", B(Plots)),
            new("precision", Precision), new("fast_dev_run", B(FastDevRun)), new("overfit_batches", OverfitBatches.ToString(inv)),
            new("limit_train_batches", LimitTrainBatches), new("limit_val_batches", LimitValBatches),
            new("lr0", D(Lr0)), new("lrf", D(Lrf)), new("momentum", D(Momentum)), new("weight_decay", D(WeightDecay)),
            new("warmup_epochs", D(WarmupEpochs)), new("warmup_momentum", D(WarmupMomentum)), new("warmup_bias_lr", D(WarmupBiasLr)),
            new("box", D(Box)), new("cls", D(Cls)), new("dfl", D(Dfl)), new("nbs", Nbs.ToString(inv)),
            new("hsv_h", D(Hyp.HsvH)), new("hsv_s", D(Hyp.HsvS)), new("hsv_v", D(Hyp.HsvV)), new("degrees", D(Hyp.Degrees)),
            new("translate", D(Hyp.Translate)), new("scale", D(Hyp.Scale)), new("shear", D(Hyp.Shear)),
            new("perspective", D(Hyp.Perspective)), new("flipud", D(Hyp.FlipUD)), new("fliplr", D(Hyp.FlipLR)),
            new("mosaic", D(Hyp.Mosaic)), new("mixup", D(Hyp.MixUp)), new("close_mosaic", Hyp.CloseMosaic.ToString(inv)),
        };
        return list;
    }

    /// <summary>
    /// Builds arguments from typed getters (a command line, or a stored args map): each key is asked for
    /// with its default. Unknown keys are the caller's to report.
    /// </summary>
    public static TrainArgs FromLookup(ITrainArgLookup get)
    {
        var d = new TrainArgs();
        double? time = get.Double("time", double.NaN) is var tv && double.IsNaN(tv) ? null : tv;
        var a = new TrainArgs
        {
            Model = get.String("model", d.Model), Data = get.String("data", d.Data), Epochs = get.Int("epochs", d.Epochs), Time = time,
            Patience = get.Int("patience", d.Patience), Batch = get.Int("batch", d.Batch), ImgSz = get.Int("imgsz", d.ImgSz),
            Save = get.Bool("save", d.Save), SavePeriod = get.Int("save_period", d.SavePeriod), Cache = get.String("cache", d.Cache),
            Device = get.String("device", d.Device), Workers = get.Int("workers", d.Workers), Project = get.String("project", d.Project),
            Name = get.String("name", d.Name), ExistOk = get.Bool("exist_ok", d.ExistOk), Pretrained = get.Bool("pretrained", d.Pretrained),
            Optimizer = get.String("optimizer", d.Optimizer), Seed = get.Int("seed", d.Seed), Deterministic = get.Bool("deterministic", d.Deterministic),
            SingleCls = get.Bool("single_cls", d.SingleCls), CosLr = get.Bool("cos_lr", d.CosLr), Fraction = get.Double("fraction", d.Fraction),
            Freeze = get.Int("freeze", d.Freeze), Val = get.Bool("val", d.Val), Plots = get.Bool("plots", d.Plots),
            Precision = get.String("precision", d.Precision), FastDevRun = get.Bool("fast_dev_run", d.FastDevRun),
            OverfitBatches = get.Int("overfit_batches", d.OverfitBatches),
            LimitTrainBatches = get.String("limit_train_batches", d.LimitTrainBatches), LimitValBatches = get.String("limit_val_batches", d.LimitValBatches),
            Lr0 = get.Double("lr0", d.Lr0), Lrf = get.Double("lrf", d.Lrf), Momentum = get.Double("momentum", d.Momentum),
            WeightDecay = get.Double("weight_decay", d.WeightDecay), WarmupEpochs = get.Double("warmup_epochs", d.WarmupEpochs),
            WarmupMomentum = get.Double("warmup_momentum", d.WarmupMomentum), WarmupBiasLr = get.Double("warmup_bias_lr", d.WarmupBiasLr),
            Box = get.Double("box", d.Box), Cls = get.Double("cls", d.Cls), Dfl = get.Double("dfl", d.Dfl), Nbs = get.Int("nbs", d.Nbs),
            Hyp = AugmentationOptions.FromLookup((k, def) => get.Double(k, def)),
        };
        a.Check();
        return a;
    }

    /// <summary>Range checks with messages naming the argument.</summary>
    public void Check()
    {
        if (Epochs < 1) throw new ArgumentException($"epochs={Epochs} must be ≥ 1");
        if (Batch < 1) throw new ArgumentException($"batch={Batch} must be ≥ 1");
        if (ImgSz < 32) throw new ArgumentException($"imgsz={ImgSz} must be ≥ 32");
        if (Fraction is <= 0 or > 1) throw new ArgumentException($"fraction={Fraction} must be in (0, 1]");
        if (Lr0 <= 0) throw new ArgumentException($"lr0={Lr0} must be > 0");
        if (Nbs < 1) throw new ArgumentException($"nbs={Nbs} must be ≥ 1");
        if (Freeze < 0) throw new ArgumentException($"freeze={Freeze} must be ≥ 0");
        BatchLimit.Parse(LimitTrainBatches);
        BatchLimit.Parse(LimitValBatches);
        if (Precision is not ("32" or "bf16-mixed" or "fp16-mixed"))
            throw new ArgumentException($"precision={Precision}: expected 32, bf16-mixed or fp16-mixed");
    }
}

/// <summary>Typed look-ups of named arguments with defaults (implemented by the CLI and by stored args).</summary>
public interface ITrainArgLookup
{
    string String(string key, string fallback);
    int Int(string key, int fallback);
    double Double(string key, double fallback);
    bool Bool(string key, bool fallback);
}

/// <summary>Look-ups over a string map (args stored in a checkpoint or args.yaml).</summary>
public sealed class DictionaryArgLookup(IReadOnlyDictionary<string, string> values) : ITrainArgLookup
{
    public string String(string key, string fallback) => values.TryGetValue(key, out var v) && v is not ("" or "null" or "None") ? v : fallback;
    public int Int(string key, int fallback) => values.TryGetValue(key, out var v) && int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : fallback;
    public double Double(string key, double fallback) => values.TryGetValue(key, out var v) && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : fallback;
    public bool Bool(string key, bool fallback) => values.TryGetValue(key, out var v) && bool.TryParse(v, out var b) ? b : fallback;
}
