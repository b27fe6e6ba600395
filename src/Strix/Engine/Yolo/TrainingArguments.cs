using System.Globalization;

namespace Strix.Engine.Yolo;

/// <summary>
/// Every argument of <c>strix train</c>, with Ultralytics' names and defaults where Ultralytics has the
/// argument, plus Lightning's loop flags (<c>precision</c>, <c>fast_dev_run</c>, <c>overfit_batches</c>,
/// <c>limit_train_batches</c>, <c>limit_val_batches</c>, <c>max_steps</c>). Values are kept as text in
/// Ultralytics' order (that is what <c>args.yaml</c> lists) with typed accessors; an unknown name or a
/// malformed value is an <see cref="ArgumentException"/> naming it.
/// </summary>
public sealed class TrainingArguments
{
    /// <summary>(name, default) in the order of Ultralytics' default.yaml; "" means None.</summary>
    public static readonly IReadOnlyList<(string Name, string Default, string Help)> Definitions = new (string, string, string)[]
    {
        ("task", "detect", "task (detection only)"),
        ("mode", "train", "mode"),
        ("model", "yolov8n", "scale name (yolov8n…x) or weights (.safetensors, .pt, .onnx)"),
        ("data", "shapes", "data.yaml, or 'shapes' for the built-in dataset"),
        ("epochs", "100", "epochs to train"),
        ("time", "", "hours to train (overrides epochs)"),
        ("patience", "100", "epochs without fitness improvement before stopping early (0: never)"),
        ("batch", "16", "images per batch"),
        ("imgsz", "640", "training image size"),
        ("save", "true", "save checkpoints"),
        ("save_period", "-1", "also save epochN every N epochs (≤0: off)"),
        ("cache", "false", "cache decoded images: ram, disk or false"),
        ("device", "", "cpu, cuda, cuda:N or N (default: cuda:0 when available, else cpu)"),
        ("workers", "8", "data loading threads"),
        ("project", "", "runs folder (default runs/detect)"),
        ("name", "", "run name (default train, train2, …)"),
        ("exist_ok", "false", "reuse an existing run folder"),
        ("pretrained", "true", "start from the weights of model= (false: its architecture only)"),
        ("optimizer", "auto", "SGD, Adam, AdamW or auto"),
        ("verbose", "true", "print more"),
        ("seed", "0", "random seed"),
        ("deterministic", "true", "deterministic algorithms where the backend allows"),
        ("single_cls", "false", "treat every class as one"),
        ("rect", "false", "rectangular training batches (no mosaic, no shuffle)"),
        ("cos_lr", "false", "cosine learning-rate decay"),
        ("close_mosaic", "10", "turn mosaic off for the last N epochs"),
        ("resume", "false", "resume from a checkpoint (model= or resume=path)"),
        ("amp", "true", "mixed precision on CUDA when precision= is not given (fp16-mixed)"),
        ("fraction", "1.0", "fraction of the training images to use"),
        ("freeze", "", "freeze the first N layers, or a list of layer indices"),
        ("val", "true", "validate every epoch (false: only after the last)"),
        ("split", "val", "dataset split to validate on"),
        ("iou", "0.7", "NMS IoU threshold for validation"),
        ("max_det", "300", "maximum detections per image in validation"),
        ("plots", "true", "save plots and batch images"),
        ("lr0", "0.01", "initial learning rate"),
        ("lrf", "0.01", "final learning rate as a fraction of lr0"),
        ("momentum", "0.937", "SGD momentum / Adam beta1"),
        ("weight_decay", "0.0005", "weight decay (scaled by batch·accumulate/nbs)"),
        ("warmup_epochs", "3.0", "warm-up epochs (at least 100 iterations)"),
        ("warmup_momentum", "0.8", "initial warm-up momentum"),
        ("warmup_bias_lr", "0.1", "initial warm-up learning rate of the biases"),
        ("box", "7.5", "box loss gain"),
        ("cls", "0.5", "class loss gain"),
        ("dfl", "1.5", "distribution focal loss gain"),
        ("nbs", "64", "nominal batch size"),
        ("hsv_h", "0.015", "hue augmentation (fraction)"),
        ("hsv_s", "0.7", "saturation augmentation (fraction)"),
        ("hsv_v", "0.4", "value augmentation (fraction)"),
        ("degrees", "0.0", "rotation (± degrees)"),
        ("translate", "0.1", "translation (± fraction)"),
        ("scale", "0.5", "scale (± gain)"),
        ("shear", "0.0", "shear (± degrees)"),
        ("perspective", "0.0", "perspective (± fraction)"),
        ("flipud", "0.0", "up-down flip probability"),
        ("fliplr", "0.5", "left-right flip probability"),
        ("mosaic", "1.0", "mosaic probability"),
        ("mixup", "0.0", "mixup probability"),
        ("precision", "", "32, bf16-mixed or fp16-mixed (default 32; fp16-mixed on CUDA with amp)"),
        ("fast_dev_run", "false", "one training and one validation batch, nothing written"),
        ("overfit_batches", "0", "train on the first N batches only (0: off)"),
        ("limit_train_batches", "", "batches (N) or fraction (0.x) of each training epoch"),
        ("limit_val_batches", "", "batches (N) or fraction (0.x) of each validation"),
        ("max_steps", "", "stop after N optimizer steps"),
    };

    static readonly HashSet<string> Known = Definitions.Select(d => d.Name).ToHashSet(StringComparer.Ordinal);
    readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    readonly HashSet<string> _given = new(StringComparer.Ordinal);

    TrainingArguments() { foreach (var (n, d, _) in Definitions) _values[n] = d; }

    /// <summary>All defaults.</summary>
    public static TrainingArguments Defaults() => new();

    /// <summary>Defaults overridden by <paramref name="overrides"/> (key=value as given on the command line).</summary>
    public static TrainingArguments Parse(IEnumerable<KeyValuePair<string, string>> overrides)
    {
        var a = new TrainingArguments();
        foreach (var (k, v) in overrides) a.Set(k, v);
        a.Validate();
        return a;
    }

    /// <summary>Sets one argument (None/null/empty: back to None).</summary>
    public void Set(string name, string? value)
    {
        var key = name.Trim().ToLowerInvariant().Replace('-', '_');
        if (!Known.Contains(key))
        {
            var close = Definitions.Select(d => d.Name).OrderBy(n => Distance(n, key)).First();
            throw new ArgumentException($"'{name}' is not a valid train argument (did you mean '{close}'?)");
        }
        var v = (value ?? "").Trim();
        _values[key] = v is "None" or "none" or "null" ? "" : v;
        _given.Add(key);
    }

    /// <summary>True when the argument was given explicitly (not a default).</summary>
    public bool IsGiven(string name) => _given.Contains(name);

    public string? GetString(string name) { var v = _values[name]; return v.Length == 0 ? null : v; }

    public int GetInt(string name)
    {
        var v = _values[name];
        if (int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i)) return i;
        if (double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d == Math.Floor(d) && Math.Abs(d) < int.MaxValue) return (int)d;
        throw new ArgumentException($"{name}={v} is not an integer");
    }

    public double GetDouble(string name)
    {
        var v = _values[name];
        return double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d
            : throw new ArgumentException($"{name}={v} is not a number");
    }

    public double? GetNullableDouble(string name) => _values[name].Length == 0 ? null : GetDouble(name);

    public bool GetBool(string name) => _values[name].ToLowerInvariant() switch
    {
        "true" or "1" or "yes" or "on" => true,
        "false" or "0" or "no" or "off" or "" => false,
        var v => throw new ArgumentException($"{name}={v} is not true/false"),
    };

    /// <summary><c>freeze</c>: an int N (first N layers) or a list of layer indices; null when not set.</summary>
    public int[]? Freeze()
    {
        var v = _values["freeze"].Trim();
        if (v.Length == 0) return null;
        var parts = v.Trim('[', ']').Split(new[] { ',', ' ' }, StringSplitOptions.RemoveEmptyEntries);
        var ints = parts.Select(p => int.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i
            : throw new ArgumentException($"freeze={v}: '{p}' is not a layer index")).ToArray();
        bool isList = v.StartsWith('[') || parts.Length > 1;
        return isList ? ints : Enumerable.Range(0, ints[0]).ToArray();
    }

    public string Model => _values["model"];
    public string Data => _values["data"];
    public int Epochs => GetInt("epochs");
    public int Batch => GetInt("batch");
    public int ImgSz => GetInt("imgsz");

    /// <summary>Every argument in Ultralytics' order, typed for YAML (numbers, booleans, null).</summary>
    public IEnumerable<KeyValuePair<string, object?>> ToYamlItems()
    {
        foreach (var (n, _, _) in Definitions)
        {
            var v = _values[n];
            object? o = v.Length == 0 ? null
                : v.ToLowerInvariant() is "true" or "false" ? bool.Parse(v)
                : long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? l
                : double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d
                : v;
            yield return KeyValuePair.Create(n, o);
        }
    }

    /// <summary>Name → text value (empty for None), in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Items() => Definitions.Select(d => KeyValuePair.Create(d.Name, _values[d.Name])).ToList();

    /// <summary>Range checks with messages naming the argument.</summary>
    public void Validate()
    {
        if (_values["task"] != "detect") throw new ArgumentException($"task={_values["task"]}: Strix trains detection models only");
        if (Epochs < 1) throw new ArgumentException($"epochs={Epochs} must be ≥ 1");
        if (Batch < 1) throw new ArgumentException($"batch={Batch} must be ≥ 1 (auto-batch is not supported)");
        if (ImgSz < 32 || ImgSz % 32 != 0) throw new ArgumentException($"imgsz={ImgSz} must be a multiple of 32 (≥ 32)");
        if (GetNullableDouble("time") is double t && t <= 0) throw new ArgumentException($"time={t} must be > 0 hours");
        if (GetDouble("fraction") is var f && !(f > 0 && f <= 1)) throw new ArgumentException($"fraction={f} must be in (0, 1]");
        if (GetInt("nbs") < 1) throw new ArgumentException("nbs must be ≥ 1");
        if (GetInt("workers") < 0) throw new ArgumentException("workers must be ≥ 0");
        if (GetDouble("lr0") <= 0) throw new ArgumentException($"lr0={GetDouble("lr0")} must be > 0");
        var opt = _values["optimizer"].ToLowerInvariant();
        if (opt is not ("auto" or "sgd" or "adam" or "adamw")) throw new ArgumentException($"optimizer={_values["optimizer"]} is not SGD, Adam, AdamW or auto");
        foreach (var n in new[] { "save", "exist_ok", "pretrained", "verbose", "deterministic", "single_cls", "rect", "cos_lr", "amp", "val", "plots", "fast_dev_run" })
            GetBool(n);
        if (GetString("precision") is string p) Precision.Precisions.Parse(p);
        if (GetString("limit_train_batches") is string lt) BatchLimit.Parse(lt);
        if (GetString("limit_val_batches") is string lv) BatchLimit.Parse(lv);
        Freeze();
    }

    static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
        return d[a.Length, b.Length];
    }
}
