using Google.Protobuf;

namespace Strix.IO.Onnx;

/// <summary>
/// A named operator attribute. <see cref="Type"/> says which value field is used; that field is
/// always written, even when it holds the default (proto2 presence, which ONNX's checker counts).
/// </summary>
public sealed class AttributeProto : OnnxMessage
{
    /// <summary>AttributeProto.AttributeType values from onnx.proto.</summary>
    public enum AttributeType
    {
        Undefined = 0, Float = 1, Int = 2, String = 3, Tensor = 4, Graph = 5,
        Floats = 6, Ints = 7, Strings = 8, Tensors = 9, Graphs = 10,
        SparseTensor = 11, SparseTensors = 12, TypeProto = 13, TypeProtos = 14,
    }

    public string Name { get; set; } = "";
    public string RefAttrName { get; set; } = "";
    public string DocString { get; set; } = "";
    public AttributeType Type { get; set; }
    public float F { get; set; }
    public long I { get; set; }
    public ByteString S { get; set; } = ByteString.Empty;
    public TensorProto? T { get; set; }
    public GraphProto? G { get; set; }
    public List<float> Floats { get; } = new();
    public List<long> Ints { get; } = new();
    public List<ByteString> Strings { get; } = new();
    public List<TensorProto> Tensors { get; } = new();
    public List<GraphProto> Graphs { get; } = new();

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeType.Int, I = value };
    public static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeType.Float, F = value };
    public static AttributeProto String(string name, string value) => new() { Name = name, Type = AttributeType.String, S = ByteString.CopyFromUtf8(value) };
    public static AttributeProto Tensor(string name, TensorProto value) => new() { Name = name, Type = AttributeType.Tensor, T = value };

    public static AttributeProto IntList(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static AttributeProto FloatList(string name, params float[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeType.Floats };
        a.Floats.AddRange(values);
        return a;
    }

    /// <summary>The string value as UTF-8 text.</summary>
    public string StringValue => S.ToStringUtf8();

    public override void WriteTo(CodedOutputStream output)
    {
        Wire.String(output, 1, Name);
        if (Type == AttributeType.Float) { output.WriteTag(2, WireFormat.WireType.Fixed32); output.WriteFloat(F); }
        if (Type == AttributeType.Int) Wire.Int64(output, 3, I);
        if (Type == AttributeType.String) Wire.Bytes(output, 4, S);
        if (Type == AttributeType.Tensor) Wire.Message(output, 5, T);
        if (Type == AttributeType.Graph) Wire.Message(output, 6, G);
        Wire.Floats(output, 7, Floats);
        Wire.Int64s(output, 8, Ints);
        foreach (var s in Strings) Wire.Bytes(output, 9, s);
        Wire.Messages(output, 10, Tensors);
        Wire.Messages(output, 11, Graphs);
        Wire.String(output, 13, DocString);
        output.WriteTag(20, WireFormat.WireType.Varint);
        output.WriteInt32((int)Type);
        Wire.String(output, 21, RefAttrName);
    }

    public override int CalculateSize() =>
        Wire.StringSize(1, Name)
        + (Type == AttributeType.Float ? CodedOutputStream.ComputeTagSize(2) + 4 : 0)
        + (Type == AttributeType.Int ? Wire.Int64Size(3, I) : 0)
        + (Type == AttributeType.String ? Wire.BytesSize(4, S) : 0)
        + (Type == AttributeType.Tensor ? Wire.MessageSize(5, T) : 0)
        + (Type == AttributeType.Graph ? Wire.MessageSize(6, G) : 0)
        + Wire.FloatsSize(7, Floats)
        + Wire.Int64sSize(8, Ints)
        + Strings.Sum(s => Wire.BytesSize(9, s))
        + Wire.MessagesSize(10, Tensors)
        + Wire.MessagesSize(11, Graphs)
        + Wire.StringSize(13, DocString)
        + CodedOutputStream.ComputeTagSize(20) + CodedOutputStream.ComputeInt32Size((int)Type)
        + Wire.StringSize(21, RefAttrName);

    protected override bool MergeField(CodedInputStream input, int field, WireFormat.WireType wire)
    {
        switch (field)
        {
            case 1: Name = input.ReadString(); return true;
            case 2: F = input.ReadFloat(); return true;
            case 3: I = input.ReadInt64(); return true;
            case 4: S = input.ReadBytes(); return true;
            case 5: T = Wire.ReadMessage<TensorProto>(input); return true;
            case 6: G = Wire.ReadMessage<GraphProto>(input); return true;
            case 7: Wire.ReadFloats(input, wire, Floats); return true;
            case 8: Wire.ReadInt64s(input, wire, Ints); return true;
            case 9: Strings.Add(input.ReadBytes()); return true;
            case 10: Tensors.Add(Wire.ReadMessage<TensorProto>(input)); return true;
            case 11: Graphs.Add(Wire.ReadMessage<GraphProto>(input)); return true;
            case 13: DocString = input.ReadString(); return true;
            case 20: Type = (AttributeType)input.ReadInt32(); return true;
            case 21: RefAttrName = input.ReadString(); return true;
            default: return false;
        }
    }

    public override string ToString() => Type switch
    {
        AttributeType.Float => $"{Name}={F}",
        AttributeType.Int => $"{Name}={I}",
        AttributeType.String => $"{Name}='{StringValue}'",
        AttributeType.Ints => $"{Name}=[{string.Join(", ", Ints)}]",
        AttributeType.Floats => $"{Name}=[{string.Join(", ", Floats)}]",
        _ => $"{Name}:{Type}",
    };
}
