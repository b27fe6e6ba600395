using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace Strix.Tests.Platform;

/// <summary>
/// Reads the IL of an assembly and lists, for each method body, the methods it calls, named as
/// <c>Namespace.Type/Nested::name(param types)</c> so that a call site in one assembly and the
/// definition in another produce the same string. Used to find TorchSharp calls that create Scalars
/// nobody holds (see <see cref="ScalarLifetimeTests"/>).
/// </summary>
sealed class IlCallScanner : IDisposable
{
    static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    readonly PEReader pe;
    readonly MetadataReader md;
    readonly SignatureNames names;

    public IlCallScanner(string path)
    {
        pe = new PEReader(File.OpenRead(path));
        md = pe.GetMetadataReader();
        names = new SignatureNames(md);
    }

    public void Dispose() => pe.Dispose();

    /// <summary>One IL instruction: its opcode and, for a method operand, the callee's name, parameter count, instance-ness and return type.</summary>
    public readonly record struct Instruction(OpCode Op, string? Callee, int Consumes, string? Returns);

    /// <summary>Every method with a body and its instructions.</summary>
    public IEnumerable<(string Method, List<Instruction> Code)> Bodies()
    {
        foreach (var typeHandle in md.TypeDefinitions)
        {
            var type = md.GetTypeDefinition(typeHandle);
            foreach (var methodHandle in type.GetMethods())
            {
                var method = md.GetMethodDefinition(methodHandle);
                if (method.RelativeVirtualAddress == 0) continue;
                var body = pe.GetMethodBody(method.RelativeVirtualAddress);
                yield return (Name(methodHandle), Decode(body.GetILBytes()!));
            }
        }
    }

    List<Instruction> Decode(byte[] il)
    {
        var code = new List<Instruction>();
        int i = 0;
        while (i < il.Length)
        {
            short value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            i += il[i] == 0xFE ? 2 : 1;
            var op = OpCodesByValue[value];
            int operand = OperandSize(op, il, i);
            if (op.OperandType == OperandType.InlineMethod)
            {
                var handle = MetadataTokens.EntityHandle(BitConverter.ToInt32(il, i));
                var (consumes, returns) = Shape(handle);
                code.Add(new Instruction(op, Name(handle), consumes, returns));
            }
            else code.Add(new Instruction(op, null, 0, null));
            i += operand;
        }
        return code;
    }

    (int Consumes, string Returns) Shape(EntityHandle handle)
    {
        MethodSignature<string> sig;
        switch (handle.Kind)
        {
            case HandleKind.MethodDefinition: sig = md.GetMethodDefinition((MethodDefinitionHandle)handle).DecodeSignature(names, null); break;
            case HandleKind.MemberReference: sig = md.GetMemberReference((MemberReferenceHandle)handle).DecodeMethodSignature(names, null); break;
            case HandleKind.MethodSpecification: return Shape(md.GetMethodSpecification((MethodSpecificationHandle)handle).Method);
            default: return (0, "?");
        }
        return (sig.ParameterTypes.Length + (sig.Header.IsInstance ? 1 : 0), sig.ReturnType);
    }

    static int OperandSize(OpCode op, byte[] il, int i) => op.OperandType switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, i),
        _ => 4,
    };

    /// <summary>Every method with a body: its name and the names of the methods it calls (call, callvirt, newobj, ldftn).</summary>
    public IEnumerable<(string Method, List<string> Calls)> Methods() =>
        Bodies().Select(b => (b.Method, b.Code.Where(c => c.Callee is not null).Select(c => c.Callee!).ToList()));

    string Name(EntityHandle handle)
    {
        switch (handle.Kind)
        {
            case HandleKind.MethodDefinition:
            {
                var m = md.GetMethodDefinition((MethodDefinitionHandle)handle);
                var sig = m.DecodeSignature(names, null);
                return $"{names.TypeName(m.GetDeclaringType())}::{md.GetString(m.Name)}({string.Join(",", sig.ParameterTypes)})";
            }
            case HandleKind.MemberReference:
            {
                var r = md.GetMemberReference((MemberReferenceHandle)handle);
                if (r.GetKind() != MemberReferenceKind.Method) return "field";
                var sig = r.DecodeMethodSignature(names, null);
                return $"{names.ParentName(r.Parent)}::{md.GetString(r.Name)}({string.Join(",", sig.ParameterTypes)})";
            }
            case HandleKind.MethodSpecification:
                return Name(md.GetMethodSpecification((MethodSpecificationHandle)handle).Method);
            default:
                return "?";
        }
    }

    /// <summary>Type names as strings; generic instances collapse to their definition so call sites match definitions.</summary>
    sealed class SignatureNames(MetadataReader md) : ISignatureTypeProvider<string, object?>
    {
        public string TypeName(TypeDefinitionHandle handle)
        {
            var t = md.GetTypeDefinition(handle);
            var declaring = t.GetDeclaringType();
            string name = md.GetString(t.Name);
            return declaring.IsNil ? Qualify(md.GetString(t.Namespace), name) : TypeName(declaring) + "/" + name;
        }

        string TypeName(TypeReferenceHandle handle)
        {
            var t = md.GetTypeReference(handle);
            string name = md.GetString(t.Name);
            return t.ResolutionScope.Kind == HandleKind.TypeReference
                ? TypeName((TypeReferenceHandle)t.ResolutionScope) + "/" + name
                : Qualify(md.GetString(t.Namespace), name);
        }

        public string ParentName(EntityHandle parent) => parent.Kind switch
        {
            HandleKind.TypeDefinition => TypeName((TypeDefinitionHandle)parent),
            HandleKind.TypeReference => TypeName((TypeReferenceHandle)parent),
            HandleKind.TypeSpecification => md.GetTypeSpecification((TypeSpecificationHandle)parent).DecodeSignature(this, null),
            _ => "?",
        };

        static string Qualify(string ns, string name) => ns.Length == 0 ? name : ns + "." + name;

        public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => TypeName(handle);
        public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => TypeName(handle);
        public string GetTypeFromSpecification(MetadataReader reader, object? context, TypeSpecificationHandle handle, byte rawTypeKind) =>
            reader.GetTypeSpecification(handle).DecodeSignature(this, context);
        public string GetPrimitiveType(PrimitiveTypeCode typeCode) => typeCode.ToString();
        public string GetSZArrayType(string elementType) => elementType + "[]";
        public string GetArrayType(string elementType, ArrayShape shape) => elementType + "[" + new string(',', shape.Rank - 1) + "]";
        public string GetByReferenceType(string elementType) => elementType + "&";
        public string GetPointerType(string elementType) => elementType + "*";
        public string GetPinnedType(string elementType) => elementType;
        public string GetGenericInstantiation(string genericType, ImmutableArray<string> typeArguments) => genericType;
        public string GetGenericMethodParameter(object? context, int index) => "!!" + index;
        public string GetGenericTypeParameter(object? context, int index) => "!" + index;
        public string GetFunctionPointerType(MethodSignature<string> signature) => "fnptr";
        public string GetModifiedType(string modifier, string unmodifiedType, bool isRequired) => unmodifiedType;
    }
}
