using System.Collections;

namespace Strix.Models.Import.Pickle;

// The restricted unpickler turns every pickled object into plain data. Python values map to:
//   None → null, bool → bool, int → long (BigInteger when it does not fit), float → double,
//   str → string, bytes → byte[], list → List<object?>, tuple → PickleTuple, dict → PickleDict,
//   set/frozenset → PickleSet, a global reference → PickleGlobal, any other object → PickleObject,
//   a torch tensor → TorchTensorRef (its storage is read later from the checkpoint archive).

/// <summary>A reference to a Python global (<c>module.name</c>). Never imported or called: only its name is kept.</summary>
public sealed record PickleGlobal(string Module, string Name)
{
    public string FullName => $"{Module}.{Name}";
    public bool Is(string module, string name) => Module == module && Name == name;
    public override string ToString() => FullName;
}

/// <summary>
/// An object the pickle asked to construct (NEWOBJ, REDUCE, INST, OBJ) from a global that is not a
/// known data constructor: the class (or callable), its arguments and the state BUILD gave it.
/// Nothing is instantiated; for a torch module the state is its <c>__dict__</c>
/// (<c>_parameters</c>, <c>_buffers</c>, <c>_modules</c>, plain attributes).
/// </summary>
public sealed class PickleObject
{
    public PickleObject(PickleGlobal type, PickleTuple args, bool viaNewObj)
    {
        Type = type; Args = args; ViaNewObj = viaNewObj;
    }

    /// <summary>The class (NEWOBJ) or callable (REDUCE) the pickle named.</summary>
    public PickleGlobal Type { get; }
    public PickleTuple Args { get; }
    /// <summary>True when created by NEWOBJ (cls.__new__), false for a REDUCE call record.</summary>
    public bool ViaNewObj { get; }
    /// <summary>What BUILD passed (usually the instance <c>__dict__</c> as a <see cref="PickleDict"/>).</summary>
    public object? State { get; set; }
    /// <summary>Items appended by APPEND(S) (list subclasses).</summary>
    public List<object?> ListItems { get; } = new();
    /// <summary>Items set by SETITEM(S) (dict subclasses).</summary>
    public PickleDict DictItems { get; } = new();

    /// <summary>An attribute from the BUILD state dict, or null.</summary>
    public object? Attribute(string name) => State is PickleDict d && d.TryGetValue(name, out var v) ? v : null;

    public override string ToString() => $"<{Type.FullName} object>";
}

/// <summary>A Python tuple (structural equality so tuples work as dict keys).</summary>
public sealed class PickleTuple : IReadOnlyList<object?>, IEquatable<PickleTuple>
{
    public static readonly PickleTuple Empty = new(Array.Empty<object?>());
    readonly object?[] _items;
    public PickleTuple(object?[] items) { _items = items; }
    public object? this[int index] => _items[index];
    public int Count => _items.Length;
    public IEnumerator<object?> GetEnumerator() => ((IEnumerable<object?>)_items).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => _items.GetEnumerator();
    public bool Equals(PickleTuple? other) => other is not null && _items.SequenceEqual(other._items);
    public override bool Equals(object? obj) => Equals(obj as PickleTuple);
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var x in _items) h.Add(x);
        return h.ToHashCode();
    }
    public override string ToString() => "(" + string.Join(", ", _items.Select(x => x?.ToString() ?? "None")) + ")";
}

/// <summary>A Python dict or OrderedDict: insertion-ordered, keys compared by value.</summary>
public sealed class PickleDict : IEnumerable<KeyValuePair<object, object?>>
{
    readonly Dictionary<object, object?> _map = new();
    readonly List<object> _order = new();

    public int Count => _order.Count;
    public IEnumerable<object> Keys => _order;

    public object? this[object key]
    {
        get => _map[key];
        set
        {
            if (!_map.ContainsKey(key)) _order.Add(key);
            _map[key] = value;
        }
    }

    public bool ContainsKey(object key) => _map.ContainsKey(key);
    public bool TryGetValue(object key, out object? value) => _map.TryGetValue(key, out value);
    public object? GetValueOrDefault(object key) => _map.TryGetValue(key, out var v) ? v : null;

    public IEnumerator<KeyValuePair<object, object?>> GetEnumerator()
    {
        foreach (var k in _order) yield return new(k, _map[k]);
    }
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>A Python set or frozenset (kept as the list of its items).</summary>
public sealed class PickleSet : List<object?>
{
    public bool Frozen { get; init; }
}

/// <summary>A tensor storage named by a persistent id: which archive record holds its bytes and their type.</summary>
public sealed record TorchStorageRef(string Key, TorchSharp.torch.ScalarType DType, string Location, long NumElements);

/// <summary>
/// A tensor as <c>torch._utils._rebuild_tensor_v2</c> describes it: a view (offset, size, stride) into a storage.
/// The data is read from the checkpoint archive only when asked for.
/// </summary>
public sealed record TorchTensorRef(TorchStorageRef Storage, long Offset, long[] Size, long[] Stride, bool RequiresGrad)
{
    /// <summary>True when the tensor was pickled as an <c>nn.Parameter</c>.</summary>
    public bool IsParameter { get; init; }
    public TorchSharp.torch.ScalarType DType => Storage.DType;
    public override string ToString() => $"tensor[{string.Join(", ", Size)}] {DType}";
}
