using Google.Protobuf;

namespace Strix.IO.Onnx;

/// <summary>Name and type of a graph input, output or intermediate value.</summary>
public sealed class ValueInfoProto : OnnxMessage
{
    public string Name { get; set; } = "";
    public TypeProto? Type { get; set; }
    public string DocString { get; set; } = "";

    public ValueInfoProto() { }
    public ValueInfoProto(string name, OnnxDataType elemType, TensorShapeProto? shape)
    {
        Name = name;
        Type = TypeProto.ForTensor(elemType, shape);
    }

    public override void WriteTo(CodedOutputStream output)
    {
        Wire.String(output, 1, Name);
        Wire.Message(output, 2, Type);
        Wire.String(output, 3, DocString);
    }

    public override int CalculateSize() => Wire.StringSize(1, Name) + Wire.MessageSize(2, Type) + Wire.StringSize(3, DocString);

    protected override bool MergeField(CodedInputStream input, int field, WireFormat.WireType wire)
    {
        switch (field)
        {
            case 1: Name = input.ReadString(); return true;
            case 2: Type = Wire.ReadMessage<TypeProto>(input); return true;
            case 3: DocString = input.ReadString(); return true;
            default: return false;
        }
    }
}
