using Google.Protobuf;

namespace Strix.IO.Onnx;

/// <summary>One operator call: op type, named inputs and outputs, attributes.</summary>
public sealed class NodeProto : OnnxMessage
{
    public List<string> Input { get; } = new();
    public List<string> Output { get; } = new();
    public string Name { get; set; } = "";
    public string OpType { get; set; } = "";
    public string Domain { get; set; } = "";
    public List<AttributeProto> Attribute { get; } = new();
    public string DocString { get; set; } = "";

    /// <summary>The attribute called <paramref name="name"/>, or null.</summary>
    public AttributeProto? GetAttribute(string name) => Attribute.FirstOrDefault(a => a.Name == name);

    public override void WriteTo(CodedOutputStream output)
    {
        Wire.Strings(output, 1, Input);
        Wire.Strings(output, 2, Output);
        Wire.String(output, 3, Name);
        Wire.String(output, 4, OpType);
        Wire.Messages(output, 5, Attribute);
        Wire.String(output, 6, DocString);
        Wire.String(output, 7, Domain);
    }

    public override int CalculateSize() =>
        Wire.StringsSize(1, Input) + Wire.StringsSize(2, Output) + Wire.StringSize(3, Name) + Wire.StringSize(4, OpType)
        + Wire.MessagesSize(5, Attribute) + Wire.StringSize(6, DocString) + Wire.StringSize(7, Domain);

    protected override bool MergeField(CodedInputStream input, int field, WireFormat.WireType wire)
    {
        switch (field)
        {
            case 1: Input.Add(input.ReadString()); return true;
            case 2: Output.Add(input.ReadString()); return true;
            case 3: Name = input.ReadString(); return true;
            case 4: OpType = input.ReadString(); return true;
            case 5: Attribute.Add(Wire.ReadMessage<AttributeProto>(input)); return true;
            case 6: DocString = input.ReadString(); return true;
            case 7: Domain = input.ReadString(); return true;
            default: return false;
        }
    }

    public override string ToString() =>
        $"{OpType}({string.Join(", ", Input)}) -> {string.Join(", ", Output)}" + (Attribute.Count > 0 ? " {" + string.Join(", ", Attribute) + "}" : "");
}
