using System.Runtime.InteropServices;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Strix.IO.Onnx;

namespace Strix.Export;

/// <summary>How activation ranges are taken from the calibration images.</summary>
public enum CalibrationMethod { MinMax, Percentile }

/// <summary>What <see cref="OnnxQuantizer.Quantize"/> did.</summary>
public sealed record QuantizeReport(int QuantizedConvs, int FloatConvs, int CalibrationImages, int Tensors);

/// <summary>
/// Static INT8 quantisation of a float32 ONNX detector in QDQ form (what ONNX Runtime, TensorRT and OpenVINO read):
/// every convolution of the network gets per-output-channel symmetric int8 weights (int32 bias at input scale ×
/// weight scale) and per-tensor asymmetric uint8 input and output activations, each activation's range calibrated
/// on real images (min–max, or the given percentile of |values| to ignore outliers). The head's decode — the DFL
/// expectation convolution, the box arithmetic and the sigmoid — stays float32, where int8 would cost accuracy.
/// ONNX Runtime then fuses each DequantizeLinear → Conv → QuantizeLinear into an integer convolution (VNNI on CPUs
/// that have it).
/// </summary>
public static class OnnxQuantizer
{
    /// <param name="fp32Path">A float32 export (ours, dynamic or static).</param>
    /// <param name="outPath">The INT8 file, written atomically.</param>
    /// <param name="calibration">Model inputs, [B, 3, H, W] float 0–1 each (the validation preprocessing).</param>
    /// <param name="method">How ranges are taken.</param>
    /// <param name="percentile">For <see cref="CalibrationMethod.Percentile"/>: the share of |values| kept (e.g. 99.99).</param>
    public static QuantizeReport Quantize(string fp32Path, string outPath, IEnumerable<(float[] Data, long[] Shape)> calibration,
        CalibrationMethod method = CalibrationMethod.MinMax, double percentile = 99.99)
    {
        var model = ModelProto.Load(fp32Path);
        var g = model.Graph!;
        if (g.Node.Any(n => n.OpType is "QuantizeLinear" or "DequantizeLinear"))
            throw new InvalidDataException($"{fp32Path} is already quantised");
        var inits = g.Initializer.ToDictionary(t => t.Name);
        var convs = g.Node.Where(n => n.OpType == "Conv" && n.Input.Count >= 2 && inits.ContainsKey(n.Input[1])).ToList();
        if (convs.Any(n => inits[n.Input[1]].DataType != OnnxDataType.Float))
            throw new InvalidDataException($"{fp32Path}: INT8 quantisation starts from a float32 export (half=false)");
        // The DFL expectation is a fixed arange convolution inside the decode: it stays float.
        // So does a convolution whose output leaves the graph (segmentation's prototypes, output1).
        var graphOutputs = g.Output.Select(o => o.Name).ToHashSet();
        var quantized = convs.Where(n => !n.Name.Contains("/dfl/", StringComparison.Ordinal) && !graphOutputs.Contains(n.Output[0])).ToList();
        var tensors = quantized.SelectMany(n => new[] { n.Input[0], n.Output[0] }).Distinct().ToList();

        var ranges = Calibrate(model, tensors, calibration, method, percentile, out int images);

        var qdq = new Dictionary<string, (string Dequantized, float Scale)>();   // activation → its dequantised copy and scale
        var newNodes = new List<NodeProto>();
        int k = 0;
        (string Dequantized, float Scale) Dequantized(string name)
        {
            if (qdq.TryGetValue(name, out var known)) return known;
            var (lo, hi) = ranges[name];
            lo = Math.Min(lo, 0); hi = Math.Max(hi, 0);
            float scale = (float)Math.Max((hi - lo) / 255.0, 1e-8);
            byte zero = (byte)Math.Clamp(Math.Round(-lo / scale), 0, 255);
            var sName = Add(g, TensorProto.FromFloats($"{name}_scale", Array.Empty<long>(), new[] { scale }));
            var zName = Add(g, Raw($"{name}_zero_point", OnnxDataType.UInt8, Array.Empty<long>(), new[] { zero }));
            string q = $"{name}_quantized", d = $"{name}_dequantized";
            newNodes.Add(NodeOf("QuantizeLinear", $"{name}_Q{k++}", new[] { name, sName, zName }, q));
            newNodes.Add(NodeOf("DequantizeLinear", $"{name}_DQ{k++}", new[] { q, sName, zName }, d));
            return qdq[name] = (d, scale);
        }
        // A per-output-channel constant (weights int8, bias int32) with zero points 0, and its DequantizeLinear.
        string DequantizedConstant<T>(TensorProto source, OnnxDataType type, T[] values, float[] scale) where T : struct
        {
            var qName = Add(g, Raw($"{source.Name}_quantized", type, source.Dims, values));
            var sName = Add(g, TensorProto.FromFloats($"{source.Name}_scale", new[] { (long)scale.Length }, scale));
            var zName = Add(g, Raw($"{source.Name}_zero_point", type, new[] { (long)scale.Length }, new T[scale.Length]));
            var d = $"{source.Name}_dequantized";
            newNodes.Add(NodeOf("DequantizeLinear", $"{source.Name}_DQ", new[] { qName, sName, zName }, d, axis: 0));
            return d;
        }

        foreach (var conv in quantized)
        {
            // The input's parameters first, so the bias can use its scale.
            var (input, inScale) = Dequantized(conv.Input[0]);
            var w = inits[conv.Input[1]];
            var wv = w.ToFloatArray();
            long outC = w.Dims[0], per = wv.Length / outC;
            var wScale = new float[outC];
            var wq = new sbyte[wv.Length];
            for (long c = 0; c < outC; c++)
            {
                float m = 0;
                for (long i = 0; i < per; i++) m = Math.Max(m, Math.Abs(wv[c * per + i]));
                wScale[c] = Math.Max(m / 127f, 1e-12f);
                for (long i = 0; i < per; i++) wq[c * per + i] = (sbyte)Math.Clamp(Math.Round(wv[c * per + i] / wScale[c]), -127, 127);
            }
            conv.Input[0] = input;
            conv.Input[1] = DequantizedConstant(w, OnnxDataType.Int8, wq, wScale);
            if (conv.Input.Count > 2 && conv.Input[2] != "" && inits.TryGetValue(conv.Input[2], out var bias))
            {
                var bScale = wScale.Select(s => s * inScale).ToArray();
                var bq = bias.ToFloatArray().Select((v, c) => (int)Math.Clamp(Math.Round(v / bScale[c]), int.MinValue + 1, int.MaxValue)).ToArray();
                conv.Input[2] = DequantizedConstant(bias, OnnxDataType.Int32, bq, bScale);
            }
        }
        // Consumers of a quantised convolution's output read its QDQ copy (the output itself feeds only the Q node).
        foreach (var conv in quantized)
        {
            var y = conv.Output[0];
            var d = Dequantized(y).Dequantized;
            foreach (var n in g.Node)
                if (n != conv)
                    for (int i = 0; i < n.Input.Count; i++)
                        if (n.Input[i] == y) n.Input[i] = d;
        }
        var order = TopologicalOrder(g.Node.Concat(newNodes).ToList(), g);
        g.Node.Clear(); g.Node.AddRange(order);
        // The float weights and biases are no longer read.
        var read = g.Node.SelectMany(n => n.Input).ToHashSet();
        var keep = g.Initializer.Where(t => read.Contains(t.Name)).ToList();
        g.Initializer.Clear(); g.Initializer.AddRange(keep);
        model.MetadataProps.Add(new StringStringEntryProto("int8", "True"));
        model.Save(outPath);
        return new QuantizeReport(quantized.Count, convs.Count - quantized.Count, images, tensors.Count);
    }

    static string Add(GraphProto g, TensorProto t) { g.Initializer.Add(t); return t.Name; }

    static TensorProto Raw<T>(string name, OnnxDataType type, IEnumerable<long> dims, T[] values) where T : struct
    {
        var t = new TensorProto { Name = name, DataType = type };
        t.Dims.AddRange(dims);
        t.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
        return t;
    }

    static NodeProto NodeOf(string op, string name, string[] inputs, string output, long? axis = null)
    {
        var n = new NodeProto { OpType = op, Name = name };
        n.Input.AddRange(inputs);
        n.Output.Add(output);
        if (axis is long a) n.Attribute.Add(AttributeProto.Int("axis", a));
        return n;
    }

    /// <summary>Nodes ordered so each comes after the producers of its inputs (ONNX requires it).</summary>
    static List<NodeProto> TopologicalOrder(List<NodeProto> nodes, GraphProto g)
    {
        var available = g.Input.Select(i => i.Name).Concat(g.Initializer.Select(t => t.Name)).ToHashSet();
        available.Add("");
        var result = new List<NodeProto>();
        var pending = new List<NodeProto>(nodes);
        while (pending.Count > 0)
        {
            var ready = pending.Where(n => n.Input.All(available.Contains)).ToList();
            if (ready.Count == 0) throw new InvalidOperationException("quantised graph has a cycle or a missing input: " + pending[0].Name);
            foreach (var n in ready) { result.Add(n); foreach (var o in n.Output) available.Add(o); }
            pending = pending.Except(ready).ToList();
        }
        return result;
    }

    /// <summary>Runs the float model on the calibration inputs with the chosen tensors exposed; their ranges.</summary>
    static Dictionary<string, (double Lo, double Hi)> Calibrate(ModelProto model, IReadOnlyList<string> tensors,
        IEnumerable<(float[] Data, long[] Shape)> calibration, CalibrationMethod method, double percentile, out int images)
    {
        var probe = ModelProto.Parse(model.ToByteArray());
        var known = probe.Graph!.Output.Select(o => o.Name).ToHashSet();
        foreach (var t in tensors) if (!known.Contains(t) && probe.Graph.Input.All(i => i.Name != t)) probe.Graph.Output.Add(new ValueInfoProto(t, OnnxDataType.Float, null));
        using var so = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
        using var session = new InferenceSession(probe.ToByteArray(), so);
        var inputName = session.InputMetadata.Keys.First();
        var fetched = tensors.Where(t => t != inputName).ToArray();
        var lo = tensors.ToDictionary(t => t, _ => double.PositiveInfinity);
        var hi = tensors.ToDictionary(t => t, _ => double.NegativeInfinity);
        var samples = tensors.ToDictionary(t => t, _ => new List<float>());
        var rng = new Random(0);
        images = 0;
        foreach (var (data, shape) in calibration)
        {
            images += (int)shape[0];
            using var input = OrtValue.CreateTensorValueFromMemory(data, shape);
            using var outs = session.Run(new RunOptions(), new[] { inputName }, new[] { input }, fetched);
            for (int i = 0; i <= fetched.Length; i++)
            {
                if (i == fetched.Length && !lo.ContainsKey(inputName)) break;
                var v = i < fetched.Length ? outs[i].GetTensorDataAsSpan<float>() : data.AsSpan();
                var t = i < fetched.Length ? fetched[i] : inputName;
                double l = lo[t], h = hi[t];
                foreach (var x in v) { if (x < l) l = x; if (x > h) h = x; }
                lo[t] = l; hi[t] = h;
                if (method == CalibrationMethod.Percentile)
                {
                    var s = samples[t];
                    int step = Math.Max(1, v.Length / 20000);
                    for (int j = rng.Next(step); j < v.Length; j += step) s.Add(v[j]);
                }
            }
        }
        if (images == 0) throw new ArgumentException("no calibration images");
        var ranges = new Dictionary<string, (double, double)>();
        foreach (var t in tensors)
        {
            if (method == CalibrationMethod.MinMax) { ranges[t] = (lo[t], hi[t]); continue; }
            var s = samples[t]; s.Sort();
            int n = s.Count;
            double q = percentile / 100;
            double pLo = s[(int)Math.Floor((1 - q) * (n - 1))], pHi = s[(int)Math.Ceiling(q * (n - 1))];
            ranges[t] = (Math.Max(lo[t], pLo), Math.Min(hi[t], pHi));
        }
        return ranges;
    }
}
