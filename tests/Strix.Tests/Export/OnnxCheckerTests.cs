using Strix.Export;
using Strix.IO.Onnx;

namespace Strix.Tests.Export;

/// <summary>ONNX's own checker (full_check: strict shape inference) accepts our exports.</summary>
public class OnnxCheckerTests : IDisposable
{
    readonly string _dir = TestPaths.NewTempDir("strix-onnx-check");
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    const string Check = """
import sys, onnx
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
inf = onnx.shape_inference.infer_shapes(m, check_type=True, strict_mode=True)
out = inf.graph.output[0].type.tensor_type
print("OK", out.elem_type, [d.dim_value if d.HasField("dim_value") else d.dim_param for d in out.shape.dim])
""";

    void AssertChecks(OnnxExportOptions o, string name, string expectedOutput)
    {
        using var m = ExportTestModels.Make(nc: 3);
        var p = Path.Combine(_dir, name);
        OnnxExporter.Export(m, p, o);
        var (code, output) = PythonOnnx.Run(Check, p);
        Assert.True(code == 0, $"onnx.checker rejected {name}:\n{output}");
        Assert.Equal(expectedOutput, output.Trim());
    }

    [PythonOnnxTheory]
    [InlineData(13, false, false, "OK 1 [1, 300, 6]")]
    [InlineData(17, true, false, "OK 1 ['batch', 300, 6]")]
    [InlineData(17, false, true, "OK 10 [1, 300, 6]")]   // Debian's onnx 1.12 checks opsets up to 17 (opset 18's ReduceMax form runs in ONNX Runtime: NmsExportTests)
    public void NmsExportPassesFullCheck(int opset, bool dynamic, bool half, string expected) =>
        AssertChecks(new OnnxExportOptions { ImageSize = 64, Opset = opset, Dynamic = dynamic, Half = half, Nms = true }, $"nms{opset}.onnx", expected);

    [PythonOnnxFact]
    public void Fp32StaticExportPassesFullCheck() =>
        AssertChecks(new OnnxExportOptions { ImageSize = 64 }, "fp32.onnx", "OK 1 [1, 7, 84]");

    [PythonOnnxFact]
    public void Fp16ExportPassesFullCheck() =>
        AssertChecks(new OnnxExportOptions { Height = 64, Width = 96, Batch = 2, Half = true }, "fp16.onnx", "OK 10 [2, 7, 126]");

    [PythonOnnxFact]
    public void DynamicExportPassesFullCheck() =>
        AssertChecks(new OnnxExportOptions { ImageSize = 64, Dynamic = true }, "dynamic.onnx", "OK 1 ['batch', 7, 'anchors']");

    [PythonOnnxFact]
    public void Fp16DynamicExportPassesFullCheck() =>
        AssertChecks(new OnnxExportOptions { ImageSize = 64, Dynamic = true, Half = true }, "fp16-dynamic.onnx", "OK 10 ['batch', 7, 'anchors']");

    [PythonOnnxFact]
    public void OldestAcceptedOpsetPassesFullCheck() =>
        AssertChecks(new OnnxExportOptions { ImageSize = 64, Dynamic = true, Opset = 13 }, "opset13.onnx", "OK 1 ['batch', 7, 'anchors']");

    [PythonOnnxFact]
    public void OnnxPythonReadsOurMessagesFieldForField()
    {
        // Our writer → onnx's reader: initializer values, attributes, metadata and dims come back intact.
        var g = new GraphProto { Name = "g" };
        g.Initializer.Add(TensorProto.FromFloats("w", new long[] { 2, 2 }, new[] { 1.5f, -2f, 0f, 1e-3f }));
        g.Initializer.Add(TensorProto.FromFloatsAsHalf("h", new long[] { 2 }, new[] { 0.5f, -3f }));
        g.Initializer.Add(TensorProto.FromInt64s("s", new long[] { 2 }, new long[] { 0, -1 }));
        var n = new NodeProto { OpType = "MatMul", Name = "mm" };
        n.Input.AddRange(new[] { "x", "w" });
        n.Output.Add("y");
        g.Node.Add(n);
        var r = new NodeProto { OpType = "Reshape", Name = "r" };
        r.Input.AddRange(new[] { "y", "s" });
        r.Output.Add("z");
        r.Attribute.Add(AttributeProto.Int("allowzero", 0));
        g.Node.Add(r);
        g.Input.Add(new ValueInfoProto("x", OnnxDataType.Float, new TensorShapeProto(new long[] { -1, 2 }, new[] { "n", null })));
        g.Output.Add(new ValueInfoProto("z", OnnxDataType.Float, new TensorShapeProto(new long[] { -1, 2 }, new[] { "n", null })));
        var model = new ModelProto { IrVersion = 8, ProducerName = "strix", Graph = g };
        model.OpsetImport.Add(new OperatorSetIdProto("", 17));
        model.MetadataProps.Add(new StringStringEntryProto("names", "{0: 'a'}"));
        var p = Path.Combine(_dir, "messages.onnx");
        model.Save(p);

        var (code, output) = PythonOnnx.Run("""
import sys, onnx
from onnx import numpy_helper
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
inits = {t.name: numpy_helper.to_array(t).tolist() for t in m.graph.initializer}
print(inits["w"], inits["h"], inits["s"])
print(m.graph.node[1].attribute[0].name, m.graph.node[1].attribute[0].i, m.graph.node[1].attribute[0].type)
print(m.metadata_props[0].key, m.metadata_props[0].value, m.producer_name, m.ir_version, m.opset_import[0].version)
print(m.graph.input[0].type.tensor_type.shape.dim[0].dim_param, m.graph.input[0].type.tensor_type.shape.dim[1].dim_value)
""", p);
        Assert.True(code == 0, output);
        var lines = output.Trim().Split('\n');
        Assert.Equal("[[1.5, -2.0], [0.0, 0.0010000000474974513]] [0.5, -3.0] [0, -1]", lines[0]);
        Assert.Equal("allowzero 0 2", lines[1]);
        Assert.Equal("names {0: 'a'} strix 8 17", lines[2]);
        Assert.Equal("n 2", lines[3]);
    }
}
