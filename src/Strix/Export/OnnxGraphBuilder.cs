using Strix.IO.Onnx;

namespace Strix.Export;

/// <summary>
/// Appends ONNX nodes and initializers to a graph with PyTorch-exporter-style names
/// (<c>/model.2/cv1/conv/Conv</c>, output <c>…_output_0</c>). Floating constants use the
/// export's element type (float32, or float16 for half exports).
/// </summary>
internal sealed class OnnxGraphBuilder
{
    readonly HashSet<string> _names = new();
    readonly Dictionary<string, string> _int64Constants = new();

    public GraphProto Graph { get; } = new();
    /// <summary>Element type of weights, activations, inputs and outputs.</summary>
    public OnnxDataType FloatType { get; }
    public int Opset { get; }

    public OnnxGraphBuilder(OnnxDataType floatType, int opset, string name)
    {
        FloatType = floatType;
        Opset = opset;
        Graph.Name = name;
    }

    string Unique(string name)
    {
        var n = name;
        for (int k = 1; !_names.Add(n); k++) n = $"{name}_{k}";
        return n;
    }

    /// <summary>Adds a floating-point initializer in the export's element type.</summary>
    public string Weight(string name, long[] dims, float[] values)
    {
        name = Unique(name);
        Graph.Initializer.Add(FloatType == OnnxDataType.Float16
            ? TensorProto.FromFloatsAsHalf(name, dims, values)
            : TensorProto.FromFloats(name, dims, values));
        return name;
    }

    /// <summary>A float32 initializer whatever the export type (Resize scales must be float32).</summary>
    public string Float32(string name, long[] dims, float[] values)
    {
        name = Unique(name);
        Graph.Initializer.Add(TensorProto.FromFloats(name, dims, values));
        return name;
    }

    /// <summary>An int64 initializer, shared between nodes that need the same values (shapes, axes, split sizes).</summary>
    public string Int64(long[] values, bool scalar = false)
    {
        var key = (scalar ? "s" : "v") + string.Join(",", values);
        if (_int64Constants.TryGetValue(key, out var existing)) return existing;
        var name = Unique(scalar ? $"const_{values[0]}" : "const_[" + string.Join("_", values) + "]");
        Graph.Initializer.Add(TensorProto.FromInt64s(name, scalar ? Array.Empty<long>() : new long[] { values.Length }, values));
        _int64Constants[key] = name;
        return name;
    }

    /// <summary>Adds a node with one output; returns the output's name.</summary>
    public string Node(string opType, string scope, string[] inputs, params AttributeProto[] attributes) =>
        NodeMulti(opType, scope, inputs, 1, attributes)[0];

    /// <summary>Adds a node with <paramref name="outputs"/> outputs; returns their names.</summary>
    public string[] NodeMulti(string opType, string scope, string[] inputs, int outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = Unique($"{scope}/{opType}") };
        node.Input.AddRange(inputs);
        for (int i = 0; i < outputs; i++) node.Output.Add(Unique($"{node.Name}_output_{i}"));
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        return node.Output.ToArray();
    }

    // Thin helpers for the ops the YOLOv8 graph uses.

    public string Add(string scope, string a, string b) => Node("Add", scope, new[] { a, b });
    public string Sub(string scope, string a, string b) => Node("Sub", scope, new[] { a, b });
    public string Mul(string scope, string a, string b) => Node("Mul", scope, new[] { a, b });
    public string Div(string scope, string a, string b) => Node("Div", scope, new[] { a, b });
    public string Sigmoid(string scope, string x) => Node("Sigmoid", scope, new[] { x });

    public string Concat(string scope, IEnumerable<string> xs, long axis) =>
        Node("Concat", scope, xs.ToArray(), AttributeProto.Int("axis", axis));

    /// <summary>Split with sizes given as an input tensor (the form valid from opset 13 on).</summary>
    public string[] Split(string scope, string x, long axis, params long[] sizes) =>
        NodeMulti("Split", scope, new[] { x, Int64(sizes) }, sizes.Length, AttributeProto.Int("axis", axis));

    /// <summary>Reshape to a constant shape (0 copies the input's dimension, −1 is inferred).</summary>
    public string Reshape(string scope, string x, params long[] shape) =>
        Node("Reshape", scope, new[] { x, Int64(shape) });

    public string Transpose(string scope, string x, params long[] perm) =>
        Node("Transpose", scope, new[] { x }, AttributeProto.IntList("perm", perm));

    public string Softmax(string scope, string x, long axis) =>
        Node("Softmax", scope, new[] { x }, AttributeProto.Int("axis", axis));

    public void Input(string name, TensorShapeProto shape) => Graph.Input.Add(new ValueInfoProto(name, FloatType, shape));
    public void Output(string name, TensorShapeProto shape) => Graph.Output.Add(new ValueInfoProto(name, FloatType, shape));

    /// <summary>Renames the value <paramref name="from"/> (a node output) to <paramref name="to"/>.</summary>
    public void Rename(string from, string to)
    {
        foreach (var n in Graph.Node)
        {
            for (int i = 0; i < n.Output.Count; i++) if (n.Output[i] == from) n.Output[i] = to;
            for (int i = 0; i < n.Input.Count; i++) if (n.Input[i] == from) n.Input[i] = to;
        }
    }
}
