using Google.Protobuf;
using Strix.IO.Onnx;

namespace Strix.Tests.Export;

public class OnnxProtoTests
{
    static ModelProto LoadPythonMade() => ModelProto.Load(TestPaths.Fixture("onnx", "python_made.onnx"));

    [Fact]
    public void ReadsAModelWrittenByOnnxPython()
    {
        var m = LoadPythonMade();
        Assert.Equal(8, m.IrVersion);
        Assert.Equal(17, m.OnnxOpset);
        Assert.Equal("onnx-python", m.ProducerName);
        Assert.Equal(5, m.ModelVersion);
        Assert.Equal("model doc", m.DocString);
        Assert.Equal("{0: 'person', 1: \"it's\"}", m.GetMetadata("names"));
        Assert.Equal("32", m.GetMetadata("stride"));
        Assert.Null(m.GetMetadata("nope"));

        var g = m.Graph!;
        Assert.Equal("python_made", g.Name);
        Assert.Equal("graph doc", g.DocString);
        Assert.Equal(new[] { "MatMul", "Identity" }, g.Node.Select(n => n.OpType));
        Assert.Equal(new[] { "x", "w_typed" }, g.Node[0].Input);
        Assert.Equal("matmul doc", g.Node[0].DocString);

        var x = g.Input.Single();
        Assert.Equal("x", x.Name);
        Assert.Equal(OnnxDataType.Float, x.Type!.TensorType!.ElemType);
        var dims = x.Type.TensorType.Shape!.Dim;
        Assert.Equal("batch", dims[0].DimParam);
        Assert.Null(dims[0].DimValue);
        Assert.Equal(2, dims[1].DimValue);
        var y = g.ValueInfo.Single();
        Assert.Null(y.Type!.TensorType!.Shape!.Dim[0].DimValue);
        Assert.Null(y.Type.TensorType.Shape.Dim[0].DimParam);
    }

    [Fact]
    public void ReadsEveryAttributeKind()
    {
        var node = LoadPythonMade().Graph!.Node[1];
        Assert.Equal(0.75f, node.GetAttribute("f_attr")!.F);
        Assert.Equal(AttributeProto.AttributeType.Float, node.GetAttribute("f_attr")!.Type);
        Assert.Equal(-3, node.GetAttribute("i_attr")!.I);
        Assert.Equal("hello", node.GetAttribute("s_attr")!.StringValue);
        Assert.Equal(new long[] { 7, 8 }, node.GetAttribute("t_attr")!.T!.ToInt64Array());
        Assert.Equal(new[] { 1.0f, 2.5f }, node.GetAttribute("floats_attr")!.Floats);
        Assert.Equal(new long[] { 1, 2, 3 }, node.GetAttribute("ints_attr")!.Ints);
        Assert.Equal(new[] { "a", "bc" }, node.GetAttribute("strings_attr")!.Strings.Select(s => s.ToStringUtf8()));
    }

    [Fact]
    public void ReadsTypedAndRawTensorData()
    {
        var inits = LoadPythonMade().Graph!.Initializer.ToDictionary(t => t.Name);
        Assert.Equal(6, inits.Count); // the sparse initializer (an unmodelled field) is skipped, not mixed in
        Assert.Equal(new long[] { 2, 3 }, inits["w_typed"].Dims);
        Assert.Equal(new[] { 0.5f, -1.25f, 2.0f, 3.5f, -4.0f, 1e-3f }, inits["w_typed"].ToFloatArray());
        Assert.Null(inits["w_typed"].RawData);
        Assert.NotNull(inits["w_raw"].RawData);
        Assert.Equal(new[] { 0f, 0.25f, 0.5f, 0.75f, 1f, 1.25f }, inits["w_raw"].ToFloatArray());
        Assert.Equal(new long[] { 0, -1, 123456789012 }, inits["shape_i64"].ToInt64Array());
        Assert.Equal(new[] { 1.5f, -2.0f, 65504f }, inits["half_typed"].ToFloatArray());
        Assert.Equal(new[] { (float)(Half)0.1f, (float)(Half)0.2f }, inits["half_raw"].ToFloatArray());
        Assert.Equal(OnnxDataType.Double, inits["dbl"].DataType);
        Assert.Equal(new[] { (float)(1.0 / 3.0), -7f }, inits["dbl"].ToFloatArray());
    }

    static ModelProto MakeModel()
    {
        var g = new GraphProto { Name = "g", DocString = "doc" };
        var n = new NodeProto { OpType = "Conv", Name = "conv0", Domain = "" };
        n.Input.AddRange(new[] { "images", "w", "b" });
        n.Output.Add("y");
        n.Attribute.Add(AttributeProto.IntList("kernel_shape", 3, 3));
        n.Attribute.Add(AttributeProto.Int("group", 1));
        n.Attribute.Add(AttributeProto.Int("zero", 0)); // default value must survive (proto2 presence)
        n.Attribute.Add(AttributeProto.Float("alpha", 0f));
        n.Attribute.Add(AttributeProto.String("mode", "nearest"));
        n.Attribute.Add(AttributeProto.FloatList("scales", 1f, 2f));
        n.Attribute.Add(AttributeProto.Tensor("value", TensorProto.FromInt64s("v", new long[] { 2 }, new long[] { -1, 5 })));
        g.Node.Add(n);
        g.Initializer.Add(TensorProto.FromFloats("w", new long[] { 2, 3, 1, 1 }, new[] { 1f, -2f, 3f, 4.5f, 1e-7f, -0f }));
        g.Initializer.Add(TensorProto.FromFloatsAsHalf("b", new long[] { 2 }, new[] { 0.1f, 70000f }));
        var typed = new TensorProto { Name = "typed", DataType = OnnxDataType.Int64 };
        typed.Dims.Add(3);
        typed.Int64Data.AddRange(new long[] { long.MinValue, 0, long.MaxValue });
        g.Initializer.Add(typed);
        var f16typed = new TensorProto { Name = "f16typed", DataType = OnnxDataType.Float16 };
        f16typed.Dims.Add(1);
        f16typed.Int32Data.Add(BitConverter.HalfToUInt16Bits((Half)(-0.5f)));
        g.Initializer.Add(f16typed);
        var floats = new TensorProto { Name = "floats", DataType = OnnxDataType.Float };
        floats.Dims.Add(2);
        floats.FloatData.AddRange(new[] { float.Epsilon, -3.25f });
        g.Initializer.Add(floats);
        g.Input.Add(new ValueInfoProto("images", OnnxDataType.Float, new TensorShapeProto(new long[] { -1, 3, -1, 640 }, new[] { "batch", null, "height", null })));
        g.Output.Add(new ValueInfoProto("y", OnnxDataType.Float16, new TensorShapeProto(new long[] { 1, -1 })));
        var m = new ModelProto { IrVersion = 8, ProducerName = "strix", ProducerVersion = "0.1.0", Graph = g };
        m.OpsetImport.Add(new OperatorSetIdProto("", 17));
        m.MetadataProps.Add(new StringStringEntryProto("names", "{0: 'a'}"));
        return m;
    }

    [Fact]
    public void RoundTripKeepsEveryField()
    {
        var bytes = MakeModel().ToByteArray();
        var m = ModelProto.Parse(bytes);
        Assert.Equal(bytes, m.ToByteArray()); // a second write is byte-identical

        Assert.Equal(8, m.IrVersion);
        Assert.Equal("strix", m.ProducerName);
        Assert.Equal(17, m.OnnxOpset);
        Assert.Equal("{0: 'a'}", m.GetMetadata("names"));
        var n = m.Graph!.Node.Single();
        Assert.Equal("conv0", n.Name);
        Assert.Equal(new[] { "images", "w", "b" }, n.Input);
        Assert.Equal(new long[] { 3, 3 }, n.GetAttribute("kernel_shape")!.Ints);
        Assert.Equal(AttributeProto.AttributeType.Int, n.GetAttribute("zero")!.Type);
        Assert.Equal(0, n.GetAttribute("zero")!.I);
        Assert.Equal(AttributeProto.AttributeType.Float, n.GetAttribute("alpha")!.Type);
        Assert.Equal("nearest", n.GetAttribute("mode")!.StringValue);
        Assert.Equal(new[] { 1f, 2f }, n.GetAttribute("scales")!.Floats);
        Assert.Equal(new long[] { -1, 5 }, n.GetAttribute("value")!.T!.ToInt64Array());

        var inits = m.Graph.Initializer.ToDictionary(t => t.Name);
        Assert.Equal(new[] { 1f, -2f, 3f, 4.5f, 1e-7f, -0f }, inits["w"].ToFloatArray());
        Assert.Equal(new long[] { 2, 3, 1, 1 }, inits["w"].Dims);
        Assert.Equal(OnnxDataType.Float16, inits["b"].DataType);
        Assert.Equal(4, inits["b"].RawData!.Length);
        Assert.Equal(new[] { (float)(Half)0.1f, float.PositiveInfinity }, inits["b"].ToFloatArray());
        Assert.Equal(new[] { long.MinValue, 0, long.MaxValue }, inits["typed"].ToInt64Array());
        Assert.Equal(new[] { -0.5f }, inits["f16typed"].ToFloatArray());
        Assert.Equal(new[] { float.Epsilon, -3.25f }, inits["floats"].ToFloatArray());

        var inDims = m.Graph.Input[0].Type!.TensorType!.Shape!.Dim;
        Assert.Equal(new[] { "batch", "3", "height", "640" }, inDims.Select(d => d.ToString()));
        Assert.Equal("batch", inDims[0].DimParam);
        Assert.Equal(640, inDims[3].DimValue);
        var outT = m.Graph.Output[0].Type!.TensorType!;
        Assert.Equal(OnnxDataType.Float16, outT.ElemType);
        Assert.Null(outT.Shape!.Dim[1].DimValue);
        Assert.Null(outT.Shape.Dim[1].DimParam);
    }

    [Fact]
    public void ReaderAcceptsPackedAndUnpackedRepeatedFields()
    {
        // dims packed (onnx.proto declares it unpacked) and float_data unpacked (declared packed).
        var bytes = new MemoryStream();
        var o = new CodedOutputStream(bytes);
        o.WriteTag(1, WireFormat.WireType.LengthDelimited);
        o.WriteLength(CodedOutputStream.ComputeInt64Size(2) + CodedOutputStream.ComputeInt64Size(300));
        o.WriteInt64(2); o.WriteInt64(300);
        o.WriteTag(2, WireFormat.WireType.Varint); o.WriteInt32((int)OnnxDataType.Float);
        for (int i = 0; i < 600; i++) { o.WriteTag(4, WireFormat.WireType.Fixed32); o.WriteFloat(i * 0.5f); }
        o.WriteTag(99, WireFormat.WireType.LengthDelimited); o.WriteString("unknown field"); // skipped
        o.WriteTag(8, WireFormat.WireType.LengthDelimited); o.WriteString("t");
        o.Flush();
        var t = OnnxMessage.Parse<TensorProto>(bytes.ToArray());
        Assert.Equal(new long[] { 2, 300 }, t.Dims);
        Assert.Equal("t", t.Name);
        var v = t.ToFloatArray();
        Assert.Equal(600, v.Length);
        Assert.Equal(299.5f, v[^1]);
    }

    [Fact]
    public void SizeMismatchAndExternalDataGiveClearErrors()
    {
        var t = TensorProto.FromFloats("w", new long[] { 2 }, new[] { 1f, 2f });
        t.Dims[0] = 3;
        var e = Assert.Throws<InvalidDataException>(() => t.ToFloatArray());
        Assert.Contains("'w'", e.Message);

        var ext = new TensorProto { Name = "big", DataType = OnnxDataType.Float, DataLocation = 1 };
        ext.ExternalData.Add(new StringStringEntryProto("location", "weights.bin"));
        var e2 = Assert.Throws<NotSupportedException>(() => ext.ToFloatArray());
        Assert.Contains("weights.bin", e2.Message);

        Assert.Throws<ArgumentException>(() => TensorProto.FromFloats("w", new long[] { 3 }, new[] { 1f }));
    }

    [Fact]
    public void LoadingAFileThatIsNotOnnxNamesTheFile()
    {
        var dir = TestPaths.NewTempDir();
        var p = Path.Combine(dir, "broken.onnx");
        File.WriteAllBytes(p, new byte[] { 0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 1, 2 });
        var e = Assert.Throws<InvalidDataException>(() => ModelProto.Load(p));
        Assert.Contains("broken.onnx", e.Message);
        File.WriteAllText(p, "");
        Assert.Contains("broken.onnx", Assert.Throws<InvalidDataException>(() => ModelProto.Load(p)).Message);
        Directory.Delete(dir, true);
    }

    [Fact]
    public void SaveIsAtomicAndReadable()
    {
        var dir = TestPaths.NewTempDir();
        var p = Path.Combine(dir, "m.onnx");
        MakeModel().Save(p);
        Assert.Equal(new[] { "m.onnx" }, Directory.GetFiles(dir).Select(Path.GetFileName));
        Assert.Equal("g", ModelProto.Load(p).Graph!.Name);
        Directory.Delete(dir, true);
    }
}
