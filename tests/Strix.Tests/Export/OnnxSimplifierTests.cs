using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Strix.Export;
using Strix.IO.Onnx;

namespace Strix.Tests.Export;

public class OnnxSimplifierTests
{
    static ValueInfoProto Float14(string name)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(TensorShapeProto.Dimension.Fixed(1));
        shape.Dim.Add(TensorShapeProto.Dimension.Fixed(4));
        return new ValueInfoProto(name, OnnxDataType.Float, shape);
    }

    static NodeProto Node(string op, string output, params string[] inputs)
    {
        var n = new NodeProto { OpType = op, Name = output + "_node" };
        n.Input.AddRange(inputs);
        n.Output.Add(output);
        return n;
    }

    /// <summary>y = Identity(x) · (a + b) with a and b constant, plus a node nothing reads.</summary>
    static ModelProto Foldable()
    {
        var g = new GraphProto { Name = "g" };
        g.Input.Add(Float14("x"));
        g.Output.Add(Float14("y"));
        g.Initializer.Add(TensorProto.FromFloats("a", new long[] { 1, 4 }, new float[] { 1, 2, 3, 4 }));
        g.Initializer.Add(TensorProto.FromFloats("b", new long[] { 1, 4 }, new float[] { 0.5f, 0.5f, 0.5f, 0.5f }));
        g.Node.Add(Node("Add", "c", "a", "b"));
        g.Node.Add(Node("Identity", "x1", "x"));
        g.Node.Add(Node("Mul", "y", "x1", "c"));
        g.Node.Add(Node("Neg", "unused", "x"));
        var m = new ModelProto { IrVersion = 8, ProducerName = "strix", Graph = g };
        m.OpsetImport.Add(new OperatorSetIdProto("", 17));
        m.MetadataProps.Add(new StringStringEntryProto("names", "{0: 'a'}"));
        return m;
    }

    static float[] Run(string path, float[] x)
    {
        using var s = new InferenceSession(path);
        using var input = OrtValue.CreateTensorValueFromMemory(x, new long[] { 1, 4 });
        using var outputs = s.Run(new RunOptions(), new[] { "x" }, new[] { input }, new[] { "y" });
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    [Fact]
    public void Constants_fold_identities_and_dead_nodes_go_and_the_outputs_stay()
    {
        var dir = TestPaths.NewTempDir("strix-simplify");
        var path = Path.Combine(dir, "m.onnx");
        Foldable().Save(path);
        var x = new float[] { 1, -2, 3, 0.25f };
        var before = Run(path, x);
        var report = OnnxSimplifier.Simplify(path);
        Assert.Equal(4, report.NodesBefore);
        Assert.Equal(1, report.NodesAfter);                   // only the Mul by the folded (a + b) is left
        var after = ModelProto.Load(path);
        Assert.Equal("Mul", Assert.Single(after.Graph!.Node).OpType);
        Assert.Equal("{0: 'a'}", after.GetMetadata("names"));
        Assert.Equal(new[] { ("", 17L) }, after.OpsetImport.Select(o => (o.Domain, o.Version)));
        Assert.Equal(before, Run(path, x));
        Assert.Equal(new float[] { 1.5f, -5f, 10.5f, 1.125f }, before);
        Assert.DoesNotContain(Directory.GetFiles(dir), f => f.EndsWith(".tmp"));
    }

    [Fact]
    public void A_graph_with_nothing_to_simplify_is_left_as_written()
    {
        var dir = TestPaths.NewTempDir("strix-simplify");
        var path = Path.Combine(dir, "m.onnx");
        using var model = Strix.Tests.Models.TinyModels.WithStatistics(nc: 2, seed: 3);
        // Written already folded; float16 would make ONNX Runtime's CPU add Cast nodes, which must not be saved back.
        OnnxExporter.Export(model, path, new OnnxExportOptions { ImageSize = 64, Half = true, Dynamic = true, Names = new[] { "cat", "dog" } });
        var bytes = File.ReadAllBytes(path);
        var r = OnnxSimplifier.Simplify(path);
        Assert.Equal(r.NodesBefore, r.NodesAfter);
        Assert.Equal(bytes, File.ReadAllBytes(path));
    }
}
