using System.Globalization;
using Strix.Nn;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Strix.Models.Architecture;

/// <summary>A row turned into a module: its printed arguments, output channels and output stride.</summary>
public sealed record BuiltLayer(LayerSpec Row, Module Module, string Arguments, int Channels, double Stride);

/// <summary>
/// Ultralytics' construction rules for one row, written out per module: the input width comes from the
/// <c>from</c> layers; an output width (args[0]) is scaled by width, capped at max_channels and rounded up to a
/// multiple of 8 (unless it equals nc); repeats are scaled by depth (round half to even, at least 1) and passed
/// into the CSP blocks as their n (other modules are stacked n times); C3k2 uses C3k blocks on the m, l and x
/// scales; Classify gets nc outputs; Detect and Segment get the widths of their inputs, and YOLO11's head layout when the file uses C3k2;
/// Segment's prototype width is scaled like an output width.
/// </summary>
public static class LayerFactory
{
    /// <summary>The module names a model file may use.</summary>
    public static IReadOnlyList<string> Known { get; } = new[]
    {
        "Conv", "DWConv", "Bottleneck", "C2", "C2f", "C3", "C3k", "C3k2", "C2PSA", "SPPF", "Upsample", "Concat", "Detect", "Segment", "Pose", "OBB", "Classify",
    };

    static readonly HashSet<string> Csp = new() { "C2", "C2f", "C3", "C3k", "C3k2", "C2PSA" };
    /// <summary>Widest layer a file may ask for after scaling (the largest real model uses 1280).</summary>
    public const int MaxChannels = 16384;

    public static BuiltLayer Build(LayerSpec row, ModelSpec spec, YoloScale scale, int nc, IReadOnlyList<BuiltLayer> built)
    {
        string at = $"{spec.Source}:{row.Line}: layer {row.Index} ({row.Module})";
        var from = row.ResolvedFrom;
        int InCh(int f) => f == -1 ? (row.Index == 0 ? spec.InputChannels : built[^1].Channels) : built[f].Channels;
        double InStride(int f) => f == -1 ? (row.Index == 0 ? 1 : built[^1].Stride) : built[f].Stride;
        var a = new Args(row.Args, at, nc);
        int repeats = scale.Repeats(row.Repeats);

        if (!Known.Contains(row.Module))
            throw new InvalidDataException($"{at}: unknown module '{row.Module}' (Strix builds {string.Join(", ", Known)})");
        if (from.Length != 1 && row.Module is not ("Concat" or "Detect" or "Segment" or "Pose" or "OBB"))
            throw new InvalidDataException($"{at}: takes one input, 'from' lists {from.Length}");

        try
        {
            switch (row.Module)
            {
                case "Concat":
                {
                    One(repeats, at);
                    var strides = from.Select(InStride).Distinct().ToArray();
                    if (strides.Length != 1)
                        throw new InvalidDataException($"{at}: concatenates maps of different strides ({string.Join(", ", strides)})");
                    long dim = a.Int(0, 1);
                    if (dim != 1) throw new InvalidDataException($"{at}: only channel concatenation (dimension 1) is supported");
                    return new BuiltLayer(row, new Concat(dim), Format(new object?[] { dim }), from.Sum(InCh), strides[0]);
                }
                case "Upsample":
                {
                    One(repeats, at);
                    if (a.Get(0) is not null) throw new InvalidDataException($"{at}: upsampling to a fixed size is not supported; give [None, factor, 'nearest']");
                    double factor = a.Double(1, 1);
                    var mode = a.String(2, "nearest");
                    if (mode != "nearest") throw new InvalidDataException($"{at}: only 'nearest' upsampling is supported (got '{mode}')");
                    if (!(factor >= 1 && factor <= 8)) throw new InvalidDataException($"{at}: scale factor {factor} must be 1–8");
                    var up = Upsample(scale_factor: new[] { factor, factor }, mode: UpsampleMode.Nearest);
                    return new BuiltLayer(row, up, Format(row.Args), InCh(from[0]), InStride(from[0]) / factor);
                }
                case "Classify":
                {
                    // Classify [c2, k, s]: c2 is the class count (nc), never scaled; the 1280-wide hidden layer is fixed.
                    One(repeats, at);
                    long classes = a.Int(0, nc);
                    if (classes < 1 || classes > MaxChannels) throw new InvalidDataException($"{at}: {classes} classes is outside 1–{MaxChannels}");
                    int kernel = a.Small(1, 1), step = a.Small(2, 1), width = InCh(from[0]);
                    var head = new Classify(width, (int)classes, kernel, step);
                    return new BuiltLayer(row, head, Format(new object?[] { (long)width, classes }), (int)classes, InStride(from[0]) * step);
                }
                case "Detect":
                case "Segment":
                case "Pose":
                case "OBB":
                {
                    One(repeats, at);
                    var ch = from.Select(InCh).ToArray();
                    var strides = from.Select(f => (float)InStride(f)).ToArray();
                    if (strides.Any(s => s < 1 || s != Math.Floor(s)))
                        throw new InvalidDataException($"{at}: inputs have strides {string.Join(", ", strides)}; each must be a whole number of pixels");
                    var chList = ch.Select(c => (object?)(long)c).ToList();
                    if (row.Module == "Detect")
                        return new BuiltLayer(row, new Detect(nc, ch, strides, legacy: !spec.HasModernHead), Format(new object?[] { (long)nc, chList }), 0, 0);
                    if (row.Module == "OBB")
                    {
                        // OBB [nc, ne]: ne extra values per anchor (1, the angle).
                        long ne = a.Int(1, 1);
                        if (ne != 1) throw new InvalidDataException($"{at}: OBB takes ne = 1 (one angle per anchor), not {ne}");
                        var obb = new OBB(nc, (int)ne, ch, strides, legacy: !spec.HasModernHead);
                        return new BuiltLayer(row, obb, Format(new object?[] { (long)nc, ne, chList }), 0, 0);
                    }
                    if (row.Module == "Pose")
                    {
                        // Pose [nc, kpt_shape]: the shape as a list, or the name of the file's kpt_shape key.
                        int[] kpt = a.Get(1) switch
                        {
                            null or "kpt_shape" => spec.KptShape ?? Pose.DefaultKeypointShape,
                            List<object?> { Count: 2 } l when l.All(v => v is long) => l.Select(v => (int)(long)v!).ToArray(),
                            var v => throw new InvalidDataException($"{at}: argument 1 must be kpt_shape or [keypoints, 2 or 3] (got {FormatOne(v)})"),
                        };
                        var pose = new Pose(nc, kpt, ch, strides, legacy: !spec.HasModernHead);
                        return new BuiltLayer(row, pose, Format(new object?[] { (long)nc, kpt.Select(v => (object?)(long)v).ToList(), chList }), 0, 0);
                    }
                    // Segment [nc, nm, npr]: the prototype width npr is scaled like an output width.
                    int nm = (int)a.Int(1, Segment.DefaultMasks);
                    if (nm is < 1 or > 256) throw new InvalidDataException($"{at}: {nm} mask coefficients is outside 1–256");
                    long npr = a.Int(2, Segment.DefaultPrototypeChannels);
                    if (npr is < 1 or > MaxChannels) throw new InvalidDataException($"{at}: {npr} prototype channels is outside 1–{MaxChannels}");
                    int prototypes = scale.Channels((int)npr);
                    var seg = new Segment(nc, nm, prototypes, ch, strides, legacy: !spec.HasModernHead);
                    return new BuiltLayer(row, seg, Format(new object?[] { (long)nc, (long)nm, (long)prototypes, chList }), 0, 0);
                }
            }

            int c1 = InCh(from[0]);
            double stride = InStride(from[0]);
            long raw = a.Int(0);
            int c2 = raw == nc ? (int)raw : scale.Channels((int)Math.Min(raw, int.MaxValue));
            if (c2 < 1 || c2 > MaxChannels) throw new InvalidDataException($"{at}: {c2} output channels is outside 1–{MaxChannels}");
            bool csp = Csp.Contains(row.Module);
            int n = csp ? repeats : 1;
            int stack = csp ? 1 : repeats;
            if (stack > 1 && c1 != c2) throw new InvalidDataException($"{at}: stacking {stack} copies needs equal input and output channels ({c1} → {c2})");

            bool c3k = row.Module == "C3k2" && (a.Bool(1, false) || scale.Name is "m" or "l" or "x"); // m/l/x use C3k blocks (Ultralytics' rule)
            (Func<Module<Tensor, Tensor>> make, int s) = row.Module switch
            {
                "Conv" => ConvRow(a, c1, c2, at),
                "DWConv" => DWConvRow(a, c1, c2),
                "Bottleneck" => BottleneckRow(a, c1, c2),
                "C2" => (() => new C2(c1, c2, n, a.Bool(1, true), (int)a.Int(2, 1), a.Expansion(3)), 1),
                "C2f" => (() => new C2f(c1, c2, n, a.Bool(1, false), (int)a.Int(2, 1), a.Expansion(3)), 1),
                "C3" => (() => new C3(c1, c2, n, a.Bool(1, true), (int)a.Int(2, 1), a.Expansion(3)), 1),
                "C3k" => (() => new C3k(c1, c2, n, a.Bool(1, true), (int)a.Int(2, 1), a.Expansion(3), a.Small(4, 3)), 1),
                "C3k2" => (() => new C3k2(c1, c2, n, c3k, a.Expansion(2), (int)a.Int(3, 1), a.Bool(4, true)), 1),
                "C2PSA" => C2PsaRow(a, c1, c2, n, at),
                "SPPF" => (() => new SPPF(c1, c2, a.Small(1, 5)), 1),
                _ => throw new InvalidOperationException(row.Module),
            };
            Module module = stack == 1 ? (Module)make() : Sequential(Enumerable.Range(0, stack).Select(_ => make()).ToArray());
            // Printed as Ultralytics prints the arguments it passes: [c1, c2, (n,) rest of the row].
            var printed = new List<object?> { c1, c2 };
            if (csp) printed.Add(n);
            printed.AddRange(row.Args.Skip(1).Select(v => v is "nc" ? (long)nc : v));
            if (row.Module == "C3k2") { while (printed.Count < 4) printed.Add(false); printed[3] = c3k; }
            return new BuiltLayer(row, module, Format(printed), c2, stride * s);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{at}: {e.Message}", e);
        }
    }

    static (Func<Module<Tensor, Tensor>>, int) ConvRow(Args a, int c1, int c2, string at)
    {
        int k = a.Small(1, 1), s = a.Small(2, 1), g = (int)a.Int(4, 1), d = a.Small(5, 1);
        int? p = a.Get(3) is null ? null : a.Small(3, 0);
        bool act = a.Bool(6, true);
        return (() => new Conv(c1, c2, k, s, g, act, p, d), s);
    }

    static (Func<Module<Tensor, Tensor>>, int) DWConvRow(Args a, int c1, int c2)
    {
        int k = a.Small(1, 1), s = a.Small(2, 1), d = a.Small(3, 1);
        bool act = a.Bool(4, true);
        return (() => new DWConv(c1, c2, k, s, d, act), s);
    }

    static (Func<Module<Tensor, Tensor>>, int) BottleneckRow(Args a, int c1, int c2)
    {
        bool shortcut = a.Bool(1, true);
        int g = (int)a.Int(2, 1);
        var (k1, k2) = a.Get(3) switch
        {
            null => (3, 3),
            List<object?> { Count: 2 } ks when ks.All(k => k is long) => ((int)(long)ks[0]!, (int)(long)ks[1]!),
            _ => throw new ArgumentException("k must be [k1, k2]"),
        };
        double e = a.Expansion(4);
        return (() => new Bottleneck(c1, c2, shortcut, g, e, k1, k2), 1);
    }

    static (Func<Module<Tensor, Tensor>>, int) C2PsaRow(Args a, int c1, int c2, int n, string at)
    {
        if (c1 != c2) throw new InvalidDataException($"{at}: C2PSA keeps its width, but its input has {c1} channels and its output {c2}");
        double e = a.Expansion(1);
        return (() => new C2PSA(c1, c2, n, e), 1);
    }

    static void One(int repeats, string at)
    {
        if (repeats != 1) throw new InvalidDataException($"{at}: repeats must be 1");
    }

    /// <summary>Arguments as Python prints them ([3, 16, 3, 2], True, None, 'nearest').</summary>
    internal static string Format(IEnumerable<object?> args) => "[" + string.Join(", ", args.Select(FormatOne)) + "]";

    static string FormatOne(object? v) => v switch
    {
        null => "None",
        bool b => b ? "True" : "False",
        string s => $"'{s}'",
        double d => d == Math.Floor(d) && Math.Abs(d) < 1e15 ? d.ToString("0.0", CultureInfo.InvariantCulture) : d.ToString("R", CultureInfo.InvariantCulture),
        int i => i.ToString(CultureInfo.InvariantCulture),
        long l => l.ToString(CultureInfo.InvariantCulture),
        IEnumerable<object?> list => Format(list),
        _ => v.ToString() ?? "",
    };

    /// <summary>Typed access to a row's arguments, with errors naming the row.</summary>
    sealed class Args(IReadOnlyList<object?> raw, string at, int nc)
    {
        public IReadOnlyList<object?> Raw => raw;
        public int Count => raw.Count;
        public object? Get(int i) => i < raw.Count ? (raw[i] is "nc" ? (long)nc : raw[i]) : null;

        public long Int(int i, long? fallback = null) => Get(i) switch
        {
            long l => l,
            null when fallback is not null => fallback.Value,
            var v => throw new InvalidDataException($"{at}: argument {i} must be a whole number (got {FormatOne(v)})"),
        };
        /// <summary>A kernel, stride, dilation or padding: a whole number from 0 to 64 (the modules check their own lower bounds).</summary>
        public int Small(int i, long fallback)
        {
            long v = Int(i, fallback);
            return v is >= 0 and <= 64 ? (int)v : throw new InvalidDataException($"{at}: argument {i} = {v} is outside 0–64");
        }

        /// <summary>A width expansion ratio e: hidden channels are c·e, so it must be in (0, 4].</summary>
        public double Expansion(int i, double fallback = 0.5)
        {
            double e = Double(i, fallback);
            return e > 0 && e <= 4 ? e : throw new InvalidDataException($"{at}: expansion {e} must be in (0, 4]");
        }

        public double Double(int i, double fallback) => Get(i) switch
        {
            long l => l,
            double d => d,
            null => fallback,
            var v => throw new InvalidDataException($"{at}: argument {i} must be a number (got {FormatOne(v)})"),
        };
        public bool Bool(int i, bool fallback) => Get(i) switch
        {
            bool b => b,
            null => fallback,
            var v => throw new InvalidDataException($"{at}: argument {i} must be True or False (got {FormatOne(v)})"),
        };
        public string String(int i, string fallback) => Get(i) switch
        {
            string s => s,
            null => fallback,
            var v => throw new InvalidDataException($"{at}: argument {i} must be text (got {FormatOne(v)})"),
        };
    }
}
