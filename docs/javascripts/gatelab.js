/* The gate lab (docs/gate-lab.md): trained LSTM and GRU models of this site, run in the reader's
 * browser, with gates clamped. Plain JavaScript, no dependencies, nothing fetched but the weights
 * published next to the page.
 *
 * API, on window.gateLab (every function checks its arguments: a wrong model name, token id or
 * clamp is an Error that says what was expected and what came):
 *   models             {name: {cell: "lstm" | "gru", weights_url, vocab, outputs, gates, hidden_size, ...}}
 *   load(name)         Promise: fetches, checks and prepares the weights once; run() needs it to have
 *                      resolved. It rejects with a gateLab.WeightsError (its file, summary, problems)
 *                      when the file cannot be fetched, does not parse, or differs from the format
 *                      snippets.experiments.lab.export_model writes and the page's model: format and
 *                      version, name, cell, gates, sizes, labels, every tensor's shape, scale (a power
 *                      of two) and values (as many as its shape, integers below 2^24); the lab on the
 *                      page shows it.
 *   check(name, json)  every way a parsed weights file differs from what model `name` expects ([] if none).
 *   run(name, ids, clamps)
 *                      synchronous. ids: token ids (one-hot inputs, as the package's tasks);
 *                      clamps: [{gate, unit, from, to, value}], unit `unit` of gate `gate` pinned to
 *                      `value` at steps from..to-1 (input order, `to` excluded), before the gate is
 *                      used, exactly as snippets.LSTM / snippets.GRU forward(x, clamp=[...]) (which
 *                      also take `layer` and `direction`: 0 here, the models have one of each; any
 *                      other key is an error, not ignored).
 *                      Returns plain arrays [T][size] per step: each gate by its letter (LSTM i f g o,
 *                      GRU r z n), h, c (LSTM only) and out (the read-out's logits).
 *   encode(name, text) token ids of a text (the character model maps unknown characters to id 0; the
 *                      recall models skip them, as the page's input hint says).
 *
 * The page's configuration (models, unit menus, examples, guided set-ups and `opening`, the set-up
 * the lab applies when the page loads) is JSON in the lab's data-config attribute, written by the
 * build (snippets.figures.gate_lab.lab_html). The lab initialises on
 * Material's document$ (instant navigation), and on DOMContentLoaded without it.
 */
(function () {
  "use strict";

  if (window.gateLab && window.gateLab.version === 1) {
    return; // loaded before (instant navigation re-runs the page's scripts); document$ re-inits
  }

  // ---------------------------------------------------------------------------------------
  // The computation: snippets.LSTM / snippets.GRU and the linear read-out, in float64. The package
  // run in float64 gives the same numbers to rounding (about 1e-12); run in float32, it differs
  // from these by float32's rounding, which grows with the size of the values.
  // ---------------------------------------------------------------------------------------

  const GATES = { lstm: ["i", "f", "g", "o"], gru: ["r", "z", "n"] };
  const prepared = {}; // name -> prepared weights
  const loading = {}; // name -> Promise
  const failed = {}; // name -> the Error of its last failed load, for run()'s message

  // ---------------------------------------------------------------------------------------
  // The weights file, checked: the format snippets.experiments.lab.export_model writes, and the
  // model the page was built for (its menus and its encoding come from the page's configuration).
  // ---------------------------------------------------------------------------------------

  const FORMAT = "snippets gate lab weights, version 1";
  const FILE_KEYS = ["format", "name", "cell", "gates", "input_size", "hidden_size", "output_size", "vocab", "outputs", "state_dict"];
  const TENSOR_KEYS = ["shape", "scale", "values"];
  const EXACT = 16777216; // 2^24: integers below it, times a power of two, are exact in float32 and float64
  const CLAMP_KEYS = ["gate", "unit", "from", "to", "value"];
  const CLAMP_OPTIONAL = ["layer", "direction"]; // as the package takes them; the lab's models have one of each

  // A value as a message shows it: strings quoted, containers by their kind and size.
  function describe(x) {
    if (x === undefined) return "nothing";
    if (x === null) return "null";
    if (typeof x === "string") return JSON.stringify(x.length > 60 ? x.slice(0, 57) + "..." : x);
    if (typeof x === "number" || typeof x === "boolean") return String(x);
    if (Array.isArray(x)) {
      const short = x.length <= 8 && x.every(function (v) { return v === null || typeof v !== "object"; });
      return short ? "[" + x.map(describe).join(", ") + "]" : "an array of " + x.length;
    }
    if (ArrayBuffer.isView(x)) return "a " + x.constructor.name + " of " + x.length;
    if (typeof x === "object") {
      const keys = Object.keys(x);
      return "an object with keys " + (keys.length ? keys.slice(0, 8).join(", ") + (keys.length > 8 ? ", ..." : "") : "(none)");
    }
    return "a " + typeof x;
  }

  function isPlainObject(x) {
    return x !== null && typeof x === "object" && !Array.isArray(x) && !ArrayBuffer.isView(x);
  }

  function isInt(x) {
    return typeof x === "number" && Number.isInteger(x);
  }

  function sameList(a, b) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every(function (x, k) { return x === b[k]; });
  }

  function listed(words) {
    return words.map(function (w) { return JSON.stringify(w); }).join(", ");
  }

  // A weights file that cannot be used: which file, what went wrong (`summary`) and, for a file
  // that arrived, every way it differs from what the page expects (`problems`: "where: expected
  // ..., got ...").
  class WeightsError extends Error {
    constructor(file, summary, problems) {
      super("the weights file " + file + " " + summary + (problems.length ? ": " + problems.join("; ") : ""));
      this.name = "WeightsError";
      this.file = file;
      this.summary = summary;
      this.problems = problems;
    }
  }

  // Every way `json` differs from the weights of model `name` as the page describes it (`model`:
  // its cell, gates, hidden size, vocabulary and outputs): an empty list when it fits.
  function weightProblems(json, name, model) {
    const problems = [];
    const expect = function (where, expected, got) { problems.push(where + ": expected " + expected + ", got " + describe(got)); };
    if (!isPlainObject(json)) {
      expect("the file", "a JSON object (a weights file of format " + JSON.stringify(FORMAT) + ")", json);
      return problems;
    }
    if (json.format !== FORMAT) {
      expect("format", JSON.stringify(FORMAT) + " (this lab reads that version only)", json.format);
      return problems; // another format: its other fields would only add noise
    }
    Object.keys(json).forEach(function (key) {
      if (FILE_KEYS.indexOf(key) < 0) problems.push("unexpected key " + JSON.stringify(key) + " (a weights file has " + FILE_KEYS.join(", ") + ")");
    });
    FILE_KEYS.forEach(function (key) { if (!(key in json)) expect(key, "a value (the key is missing)", undefined); });
    if (json.name !== name) expect("name", JSON.stringify(name) + ", the model this file is published for", json.name);
    if (json.cell !== model.cell) expect("cell", JSON.stringify(model.cell) + " (the page's " + name + " model)", json.cell);
    const gates = GATES[model.cell];
    if (!sameList(json.gates, gates)) expect("gates", "[" + listed(gates) + "]", json.gates);
    const sizes = {};
    ["input_size", "hidden_size", "output_size"].forEach(function (key) {
      if (isInt(json[key]) && json[key] > 0) sizes[key] = json[key];
      else expect(key, "a positive integer", json[key]);
    });
    const labels = { input_size: ["vocab", model.vocab], output_size: ["outputs", model.outputs] };
    Object.keys(labels).forEach(function (size) {
      const key = labels[size][0], page = labels[size][1];
      const list = json[key];
      if (!Array.isArray(list) || !list.every(function (x) { return typeof x === "string"; })) expect(key, "an array of strings", list);
      else if (!sameList(list, page)) expect(key, "the page's " + page.length + " labels [" + listed(page.slice(0, 6)) + (page.length > 6 ? ", ..." : "") + "]", list);
      if (size in sizes && sizes[size] !== page.length) expect(size, page.length + " (the page's " + key + " has " + page.length + ")", json[size]);
    });
    if ("hidden_size" in sizes && sizes.hidden_size !== model.hidden_size) {
      expect("hidden_size", model.hidden_size + " (the page's unit menus are built for it)", json.hidden_size);
    }
    if (!isPlainObject(json.state_dict)) {
      if ("state_dict" in json) expect("state_dict", "an object of tensors", json.state_dict);
      return problems;
    }
    if (!("input_size" in sizes && "hidden_size" in sizes && "output_size" in sizes)) return problems; // no shapes to check against
    const I = sizes.input_size, H = sizes.hidden_size, O = sizes.output_size, G = gates.length * H;
    const shapes = {
      weight_ih_l0: [G, I], weight_hh_l0: [G, H], bias_ih_l0: [G], bias_hh_l0: [G],
      "readout.weight": [O, H], "readout.bias": [O],
    };
    Object.keys(json.state_dict).forEach(function (key) {
      if (!(key in shapes)) problems.push("state_dict: unexpected tensor " + JSON.stringify(key) + " (a one-layer model has " + Object.keys(shapes).join(", ") + ")");
    });
    Object.keys(shapes).forEach(function (key) {
      tensorProblems("state_dict." + key, json.state_dict[key], shapes[key], expect, problems);
    });
    return problems;
  }

  function tensorProblems(where, entry, shape, expect, problems) {
    if (!isPlainObject(entry)) {
      expect(where, "a tensor {shape, scale, values}", entry);
      return;
    }
    Object.keys(entry).forEach(function (key) {
      if (TENSOR_KEYS.indexOf(key) < 0) problems.push(where + ": unexpected key " + JSON.stringify(key) + " (a tensor has " + TENSOR_KEYS.join(", ") + ")");
    });
    const size = shape.reduce(function (a, b) { return a * b; }, 1);
    const shaped = sameList(entry.shape, shape); // if not, its values' count would only repeat the news
    if (!shaped) expect(where + ".shape", "[" + shape.join(", ") + "]", entry.shape);
    const scale = entry.scale;
    if (typeof scale !== "number" || !(scale > 0) || !isFinite(scale) || !Number.isInteger(Math.log2(scale))) {
      expect(where + ".scale", "a power of two" + (scale === undefined ? " (the key is missing)" : ""), scale);
    }
    const values = entry.values;
    if (!Array.isArray(values)) {
      expect(where + ".values", "an array of " + size + " integers", values);
      return;
    }
    if (shaped && values.length !== size) expect(where + ".values", size + " numbers (shape [" + shape.join(", ") + "])", values);
    for (let k = 0; k < values.length; k++) {
      const v = values[k];
      if (!isInt(v) || Math.abs(v) >= EXACT) {
        let bad = 0;
        for (let j = k; j < values.length; j++) if (!isInt(values[j]) || Math.abs(values[j]) >= EXACT) bad++;
        expect(where + ".values[" + k + "]", "an integer of magnitude below 2^24 (finite)" + (bad > 1 ? "; " + bad + " values are not" : ""), v);
        break;
      }
    }
  }

  function tensor(entry) {
    const values = entry.values;
    const out = new Float64Array(values.length);
    for (let k = 0; k < values.length; k++) out[k] = values[k] * entry.scale; // exact: scale is 2^k
    return out;
  }

  // The weights of a file that weightProblems found fitting, ready for compute().
  function prepare(json) {
    const sd = json.state_dict;
    const cell = json.cell;
    const H = json.hidden_size;
    const I = json.input_size;
    const G = GATES[cell].length * H;
    const wih = tensor(sd.weight_ih_l0); // (G, I): with one-hot input, W_ih x is a column
    const bih = tensor(sd.bias_ih_l0);
    const table = new Float64Array(I * G); // row `id`: W_ih[:, id] + b_ih
    for (let id = 0; id < I; id++) {
      for (let k = 0; k < G; k++) table[id * G + k] = wih[k * I + id] + bih[k];
    }
    return {
      cell: cell,
      H: H,
      I: I,
      O: json.output_size,
      G: G,
      table: table,
      whh: tensor(sd.weight_hh_l0),
      bhh: tensor(sd.bias_hh_l0),
      wro: tensor(sd["readout.weight"]),
      bro: tensor(sd["readout.bias"]),
    };
  }

  function sigmoid(x) {
    return 1 / (1 + Math.exp(-x));
  }

  // The checks of snippets.layers._check_pin, with the same meaning, and no key unknown to it (a
  // misspelt key would otherwise be ignored); pins per step, in list order.
  function pinsByStep(where, m, clamps, T) {
    const gates = GATES[m.cell];
    const byStep = new Array(T);
    if (clamps === undefined || clamps === null) return byStep;
    if (!Array.isArray(clamps)) throw new TypeError(where + ": expected clamps to be an array of {" + CLAMP_KEYS.join(", ") + "} (or nothing), got " + describe(clamps));
    clamps.forEach(function (pin, k) {
      const at = where + ": clamp " + k;
      if (!isPlainObject(pin)) throw new TypeError(at + ": expected an object {" + CLAMP_KEYS.join(", ") + "}, got " + describe(pin));
      Object.keys(pin).forEach(function (key) {
        if (CLAMP_KEYS.indexOf(key) < 0 && CLAMP_OPTIONAL.indexOf(key) < 0) {
          throw new TypeError(at + ": unexpected key " + JSON.stringify(key) + "; a clamp has the keys " + CLAMP_KEYS.join(", ") + " (and optionally " + CLAMP_OPTIONAL.join(", ") + ")");
        }
      });
      CLAMP_KEYS.forEach(function (key) {
        if (!(key in pin)) throw new TypeError(at + ": expected the key " + JSON.stringify(key) + " (a clamp has " + CLAMP_KEYS.join(", ") + "), got " + describe(pin));
      });
      CLAMP_OPTIONAL.forEach(function (key) {
        if (key in pin && pin[key] !== 0) throw new RangeError(at + ": expected " + key + " 0 (this model has one layer and one direction), got " + describe(pin[key]));
      });
      if (gates.indexOf(pin.gate) < 0) throw new RangeError(at + ": expected gate to be one of " + gates.join(", ") + " (a " + m.cell.toUpperCase() + "'s gates), got " + describe(pin.gate));
      if (!isInt(pin.unit) || pin.unit < 0 || pin.unit >= m.H) throw new RangeError(at + ": expected unit to be an integer in [0, " + m.H + "), got " + describe(pin.unit));
      if (!isInt(pin.from) || pin.from < 0 || pin.from > T) throw new RangeError(at + ": expected from to be a step in [0, " + T + "], got " + describe(pin.from));
      if (!isInt(pin.to) || pin.to < 0 || pin.to > T) throw new RangeError(at + ": expected to to be a step in [0, " + T + "], got " + describe(pin.to));
      if (pin.from >= pin.to) throw new RangeError(at + ": expected from < to (steps from..to-1), got " + pin.from + " and " + pin.to);
      if (typeof pin.value !== "number" || !isFinite(pin.value)) throw new RangeError(at + ": expected value to be a finite number, got " + describe(pin.value));
      for (let t = pin.from; t < pin.to; t++) (byStep[t] = byStep[t] || []).push([pin.gate, pin.unit, pin.value]);
    });
    return byStep;
  }

  function applyPins(pins, gate, values) {
    if (!pins) return;
    for (let k = 0; k < pins.length; k++) if (pins[k][0] === gate) values[pins[k][1]] = pins[k][2];
  }

  function matvec(w, rows, cols, x, bias, out) {
    for (let r = 0; r < rows; r++) {
      let s = 0;
      const base = r * cols;
      for (let j = 0; j < cols; j++) s += w[base + j] * x[j];
      out[r] = s + bias[r];
    }
  }

  function compute(name, m, ids, clamps) {
    const where = "gateLab.run(" + JSON.stringify(name) + ")";
    if (!Array.isArray(ids) && !ArrayBuffer.isView(ids)) throw new TypeError(where + ": expected ids to be an array of token ids, got " + describe(ids));
    const T = ids.length;
    if (T === 0) throw new RangeError(where + ": expected a sequence of at least one step, got no ids");
    for (let t = 0; t < T; t++) {
      if (!isInt(ids[t]) || ids[t] < 0 || ids[t] >= m.I) throw new RangeError(where + ": expected token " + t + " to be an id in [0, " + m.I + "), got " + describe(ids[t]));
    }
    const pins = pinsByStep(where, m, clamps, T);
    const H = m.H;
    const G = m.G;
    const pre = new Float64Array(G);
    const rec = new Float64Array(G);
    let h = new Float64Array(H);
    let c = new Float64Array(H);
    const out = new Float64Array(m.O);
    const result = { h: [], out: [] };
    GATES[m.cell].forEach(function (g) { result[g] = []; });
    if (m.cell === "lstm") result.c = [];
    for (let t = 0; t < T; t++) {
      const row = ids[t] * G;
      matvec(m.whh, G, H, h, m.bhh, rec);
      const hNew = new Float64Array(H);
      if (m.cell === "lstm") {
        for (let k = 0; k < G; k++) pre[k] = m.table[row + k] + rec[k];
        const i = new Float64Array(H), f = new Float64Array(H), g = new Float64Array(H), o = new Float64Array(H);
        for (let u = 0; u < H; u++) {
          i[u] = sigmoid(pre[u]);
          f[u] = sigmoid(pre[H + u]);
          g[u] = Math.tanh(pre[2 * H + u]);
          o[u] = sigmoid(pre[3 * H + u]);
        }
        applyPins(pins[t], "i", i);
        applyPins(pins[t], "f", f);
        applyPins(pins[t], "g", g);
        applyPins(pins[t], "o", o);
        const cNew = new Float64Array(H);
        for (let u = 0; u < H; u++) {
          cNew[u] = f[u] * c[u] + i[u] * g[u];
          hNew[u] = o[u] * Math.tanh(cNew[u]);
        }
        c = cNew;
        result.i.push(Array.from(i));
        result.f.push(Array.from(f));
        result.g.push(Array.from(g));
        result.o.push(Array.from(o));
        result.c.push(Array.from(c));
      } else {
        const r = new Float64Array(H), z = new Float64Array(H), n = new Float64Array(H);
        for (let u = 0; u < H; u++) {
          r[u] = sigmoid(m.table[row + u] + rec[u]);
          z[u] = sigmoid(m.table[row + H + u] + rec[H + u]);
        }
        applyPins(pins[t], "r", r);
        applyPins(pins[t], "z", z);
        for (let u = 0; u < H; u++) n[u] = Math.tanh(m.table[row + 2 * H + u] + r[u] * rec[2 * H + u]);
        applyPins(pins[t], "n", n);
        for (let u = 0; u < H; u++) hNew[u] = (1 - z[u]) * n[u] + z[u] * h[u];
        result.r.push(Array.from(r));
        result.z.push(Array.from(z));
        result.n.push(Array.from(n));
      }
      h = hNew;
      matvec(m.wro, m.O, H, h, m.bro, out);
      result.h.push(Array.from(h));
      result.out.push(Array.from(out));
    }
    return result;
  }

  // `name`, checked: one of the page's models, or an Error that lists them.
  function modelNamed(where, name) {
    if (typeof name === "string" && Object.prototype.hasOwnProperty.call(api.models, name)) return api.models[name];
    const names = Object.keys(api.models);
    throw new (typeof name === "string" ? RangeError : TypeError)(
      where + ": expected a model name, " + (names.length ? "one of " + listed(names) : "but this page has no gate lab") + "; got " + describe(name));
  }

  // The model's weights file, fetched, parsed and checked; a WeightsError that names the file otherwise.
  function fetchWeights(name, model) {
    const file = model.weights_url;
    return fetch(file)
      .then(function (response) {
        if (!response.ok) throw new WeightsError(file, "could not be loaded: the server answered " + response.status + (response.statusText ? " " + response.statusText : ""), []);
        return response.text();
      }, function (error) {
        throw new WeightsError(file, "could not be fetched (" + error.message + ")", []);
      })
      .then(function (text) {
        let json;
        try {
          json = JSON.parse(text);
        } catch (error) {
          throw new WeightsError(file, "is not valid JSON (" + error.message + ")", []);
        }
        const problems = weightProblems(json, name, model);
        if (problems.length) throw new WeightsError(file, "is not the weights this page expects", problems);
        return prepare(json);
      });
  }

  const api = {
    version: 1,
    models: {},
    WeightsError: WeightsError,
    load: function (name) {
      let model;
      try {
        model = modelNamed("gateLab.load", name);
      } catch (error) {
        return Promise.reject(error);
      }
      if (!loading[name]) {
        loading[name] = fetchWeights(name, model)
          .then(function (weights) {
            prepared[name] = weights;
            delete failed[name];
            return model;
          })
          .catch(function (error) {
            delete loading[name]; // a later load() tries again
            failed[name] = error;
            throw error;
          });
      }
      return loading[name];
    },
    // Every way a parsed weights file differs from what model `name` of this page expects; [] if it fits.
    check: function (name, json) {
      return weightProblems(json, name, modelNamed("gateLab.check", name));
    },
    run: function (name, ids, clamps) {
      modelNamed("gateLab.run", name);
      const m = prepared[name];
      if (!m) {
        const why = failed[name] ? "failed to load (" + failed[name].message + ")" : "are not loaded; call `await gateLab.load(" + JSON.stringify(name) + ")` first";
        throw new Error("gateLab.run: the weights of " + name + " " + why);
      }
      return compute(name, m, ids, clamps);
    },
    encode: function (name, text) {
      const model = modelNamed("gateLab.encode", name);
      if (typeof text !== "string") throw new TypeError("gateLab.encode: expected a string of text, got " + describe(text));
      const index = {};
      model.vocab.forEach(function (token, k) { index[token] = k; });
      const ids = [];
      for (const ch of text) {
        if (Object.prototype.hasOwnProperty.call(index, ch)) ids.push(index[ch]);
        else if (model.kind === "text") ids.push(0); // the character model's UNKNOWN
      }
      return ids;
    },
  };
  window.gateLab = api;

  // ---------------------------------------------------------------------------------------
  // The page: controls, runs, drawings
  // ---------------------------------------------------------------------------------------

  const NAMES = {
    i: "input gate i", f: "forget gate f", g: "candidate g", o: "output gate o", c: "cell state c",
    h: "hidden state h", r: "reset gate r", z: "update gate z", n: "candidate n",
  };
  const MAX_STEPS = { text: 400, recall: 200 };
  const SVG = "http://www.w3.org/2000/svg";
  let lab = null; // the state of the lab on the current page

  function el(tag, attributes, children) {
    const node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (key) {
      if (key === "text") node.textContent = attributes[key];
      else node.setAttribute(key, attributes[key]);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  function svgEl(tag, attributes) {
    const node = document.createElementNS(SVG, tag);
    Object.keys(attributes || {}).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    return node;
  }

  function labelled(id, text, control) {
    control.id = id;
    return el("div", { class: "gl-field" }, [el("label", { for: id, text: text }), control]);
  }

  function select(options) {
    const node = el("select");
    options.forEach(function (o) { node.appendChild(el("option", { value: o[0], text: o[1] })); });
    return node;
  }

  function shown(token) {
    if (token === "\n") return "↵";
    if (token === " ") return "·";
    if (token === "\t") return "⇥";
    if (token === "\u0000") return "?";
    return token;
  }

  function init() {
    const root = document.getElementById("gate-lab");
    if (!root || !root.dataset.config || root.dataset.ready) return;
    root.dataset.ready = "1";
    let config;
    try {
      config = JSON.parse(root.dataset.config);
    } catch (error) {
      config = error;
    }
    const problems = config instanceof Error ? ["data-config: expected JSON, got text that does not parse (" + config.message + ")"] : configProblems(config);
    if (problems.length) {
      root.textContent = "";
      root.appendChild(errorBox("The lab cannot start: its configuration, written into this page by the site's build, is not what gatelab.js expects.", problems, null));
      return;
    }
    Object.keys(config.models).forEach(function (name) {
      const model = Object.assign({}, config.models[name]);
      model.weights_url = new URL(model.weights_url, document.baseURI).href;
      api.models[name] = model;
    });
    lab = build(root, config);
    document.querySelectorAll("[data-gate-lab-setup]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { setUp(button.getAttribute("data-gate-lab-setup")); });
    });
    // The opening set-up (a clamp already applied: the reader sees what a clamp does before touching
    // anything), or the first model; the other models right after, so the lab keeps working if the
    // network goes.
    const first = config.opening !== undefined ? setUp(config.opening, false) : selectModel(Object.keys(config.models)[0], 0);
    first.then(function () {
      // A model that fails here says why when it is selected (its load is tried again then).
      Object.keys(config.models).forEach(function (name) { api.load(name).catch(function () {}); });
    });
  }

  // Every way the page's configuration (snippets.figures.gate_lab.lab_config) differs from what the
  // lab reads: the fields it builds its menus from. [] when it fits.
  function configProblems(config) {
    const problems = [];
    const expect = function (where, expected, got) { problems.push(where + ": expected " + expected + ", got " + describe(got)); };
    const strings = function (x) { return Array.isArray(x) && x.length > 0 && x.every(function (s) { return typeof s === "string"; }); };
    if (!isPlainObject(config) || !isPlainObject(config.models) || Object.keys(config.models).length === 0) {
      expect("data-config", "an object {models: {name: model, ...}, setups}, with at least one model", config);
      return problems;
    }
    Object.keys(config.models).forEach(function (name) {
      const m = config.models[name];
      const at = "models." + name;
      if (!isPlainObject(m)) return expect(at, "an object", m);
      if (!(m.cell in GATES)) expect(at + ".cell", "one of " + listed(Object.keys(GATES)), m.cell);
      else if (!sameList(m.gates, GATES[m.cell])) expect(at + ".gates", "[" + listed(GATES[m.cell]) + "]", m.gates);
      if (typeof m.weights_url !== "string" || !m.weights_url) expect(at + ".weights_url", "the address of its weights file", m.weights_url);
      if (typeof m.title !== "string") expect(at + ".title", "a string", m.title);
      if (!(m.kind in MAX_STEPS)) expect(at + ".kind", "one of " + listed(Object.keys(MAX_STEPS)), m.kind);
      if (!strings(m.vocab)) expect(at + ".vocab", "a non-empty array of strings", m.vocab);
      if (!strings(m.outputs)) expect(at + ".outputs", "a non-empty array of strings", m.outputs);
      const H = m.hidden_size;
      if (!isInt(H) || H <= 0) expect(at + ".hidden_size", "a positive integer", H);
      const units = function (u) { return Array.isArray(u) && u.length > 0 && u.every(function (x) { return isInt(x) && x >= 0 && x < H; }); };
      if (!Array.isArray(m.units) || !m.units.length || !m.units.every(function (o) { return isPlainObject(o) && units(o.units) && typeof o.label === "string"; })) {
        expect(at + ".units", "a non-empty array of {units: [unit ids below hidden_size " + H + "], label}", m.units);
      }
      if (!Array.isArray(m.presets) || !m.presets.length || !m.presets.every(function (o) { return isPlainObject(o) && typeof o.text === "string" && typeof o.label === "string"; })) {
        expect(at + ".presets", "a non-empty array of {label, text}", m.presets);
      }
    });
    if (!isPlainObject(config.setups)) expect("setups", "an object (the guided set-ups, by key)", config.setups);
    else if (config.opening !== undefined && !Object.prototype.hasOwnProperty.call(config.setups, config.opening)) {
      const keys = Object.keys(config.setups);
      expect("opening", "the key of a set-up (" + (keys.length ? listed(keys) : "there are none") + ") or no opening", config.opening);
    }
    return problems;
  }

  function build(root, config) {
    root.textContent = "";
    const names = Object.keys(config.models);
    const model = select(names.map(function (n) { return [n, config.models[n].title]; }));
    const preset = el("select");
    const input = el("textarea", { rows: "2", spellcheck: "false", autocomplete: "off", "aria-describedby": "gl-input-hint" });
    const hint = el("p", { id: "gl-input-hint", class: "gl-hint" });
    const clamps = el("div", { class: "gl-clamp-list" });
    const add = el("button", { type: "button", class: "md-button", text: "Add a clamp" });
    const showUnit = el("select");
    const step = el("input", { type: "range", min: "0", max: "0", value: "0", step: "1" });
    const status = el("p", { class: "gl-status", role: "status", "aria-live": "polite" });
    const error = el("div", { class: "gl-error-slot" });
    const tokens = el("div", { class: "gl-tokens", "aria-hidden": "true" });
    const charts = el("div", { class: "gl-charts" });
    const prediction = el("div", { class: "gl-prediction" });
    const values = el("div", { class: "gl-values" });
    const results = el("h3", { class: "gl-results-heading", tabindex: "-1", text: "What the model does" });
    const active = el("p", { class: "gl-active", hidden: "" });
    const answers = el("div", { class: "gl-answers" });
    const form = el("form", { class: "gl-form", "aria-label": "Gate lab settings" }, [
      el("div", { class: "gl-row" }, [labelled("gl-model", "Model", model), labelled("gl-preset", "Example", preset)]),
      labelled("gl-input", "Input", input),
      hint,
      el("fieldset", { class: "gl-clamps" }, [el("legend", { text: "Clamps" }), clamps, add]),
      el("div", { class: "gl-row" }, [labelled("gl-show", "Unit to draw", showUnit), labelled("gl-step", "Step", step)]),
    ]);
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    root.append(active, form, results, status, error, answers, tokens, charts, prediction, values);
    const state = {
      config: config, root: root, model: model, preset: preset, input: input, hint: hint, clamps: clamps,
      showUnit: showUnit, step: step, status: status, tokens: tokens, charts: charts, prediction: prediction,
      values: values, results: results, add: add, error: error, active: active, answers: answers,
      name: null, rows: 0, pending: 0, last: null, input_key: null,
    };
    model.addEventListener("change", function () { leaveSetUp(); selectModel(model.value, 0); });
    preset.addEventListener("change", function () {
      if (preset.value !== "") { input.value = modelConfig().presets[Number(preset.value)].text; schedule(); }
    });
    input.addEventListener("input", function () { preset.value = ""; schedule(150); });
    add.addEventListener("click", function () {
      const row = addClamp({ gate: modelConfig().gates[0], units: "0", value: 0, from: 0, to: Math.max(1, stepsOf()) });
      row.querySelector("select").focus();
      schedule();
    });
    showUnit.addEventListener("change", function () { draw(); });
    step.addEventListener("input", function () { draw(); });
    tokens.addEventListener("click", function (event) {
      const t = event.target.closest("[data-step]");
      if (t) { step.value = t.getAttribute("data-step"); draw(); }
    });
    return state;
  }

  function modelConfig() {
    return lab.config.models[lab.name];
  }

  function stepsOf() {
    return api.encode(lab.name, lab.input.value).length;
  }

  function unitChoices(cfg) {
    const choices = cfg.units.map(function (o) { return [o.units.join(","), o.label]; });
    choices.push(["all", "all " + cfg.hidden_size + " units"]);
    for (let u = 0; u < cfg.hidden_size; u++) choices.push([String(u), "unit " + u]);
    return choices;
  }

  function selectModel(name, presetIndex) {
    lab.name = name;
    lab.model.value = name;
    const cfg = modelConfig();
    lab.preset.textContent = "";
    cfg.presets.forEach(function (p, k) { lab.preset.appendChild(el("option", { value: String(k), text: p.label })); });
    lab.preset.appendChild(el("option", { value: "", text: "your own input" }));
    lab.preset.value = String(presetIndex);
    lab.input.value = cfg.presets[presetIndex].text;
    lab.input.maxLength = MAX_STEPS[cfg.kind];
    lab.hint.textContent = cfg.kind === "text"
      ? "Any text, up to " + MAX_STEPS.text + " characters; the model reads one character per step (↵ is a new line, · a space)."
      : "Letters: a subject " + cfg.outputs[0] + "–" + cfg.outputs[cfg.outputs.length - 1] + " first, then fillers " +
        cfg.vocab[cfg.outputs.length] + "–" + cfg.vocab[cfg.vocab.length - 2] + " (subjects may appear among them), then ? to ask. Other characters are skipped.";
    lab.showUnit.textContent = "";
    for (let u = 0; u < cfg.hidden_size; u++) lab.showUnit.appendChild(el("option", { value: String(u), text: "unit " + u }));
    lab.showUnit.value = String(cfg.units[0].units[0]);
    lab.clamps.textContent = "";
    lab.rows = 0;
    lab.status.textContent = "Loading the weights of the " + cfg.title + "…";
    lab.error.textContent = "";
    lab.last = null;
    draw();
    // Resolves to whether the model runs; a failure is shown in the page, not thrown.
    return api.load(name).then(function () {
      if (lab.name !== name) return false; // the reader picked another model meanwhile
      run();
      return true;
    }, function (error) {
      if (lab.name === name) fail(error, "Could not load the weights of the " + cfg.title + ".");
      return false;
    });
  }

  // What went wrong, in the page: a summary in the status line, the details in an alert.
  function fail(error, status) {
    lab.last = null;
    draw();
    lab.status.textContent = status;
    lab.error.textContent = "";
    if (error instanceof WeightsError) {
      const title = "The lab cannot run the " + modelConfig().title + ": its weights file " + error.summary + ".";
      lab.error.appendChild(errorBox(title, error.problems, error.file));
    } else {
      lab.error.appendChild(errorBox("The lab stopped: " + error.message, [], null));
    }
  }

  const SHOWN_PROBLEMS = 8;

  function errorBox(title, problems, file) {
    const box = el("div", { class: "gl-error", role: "alert" }, [el("p", { class: "gl-error-title", text: title })]);
    if (file) box.appendChild(el("p", {}, [document.createTextNode("File: "), el("code", { text: file })]));
    if (problems.length) {
      const list = el("ul");
      problems.slice(0, SHOWN_PROBLEMS).forEach(function (p) { list.appendChild(el("li", { text: p })); });
      if (problems.length > SHOWN_PROBLEMS) list.appendChild(el("li", { text: "and " + (problems.length - SHOWN_PROBLEMS) + " more" }));
      box.appendChild(list);
    }
    if (file) box.appendChild(el("p", { text: "The other models may still run: pick one above. Reloading the page tries this one again; if it keeps failing, the site's build published a broken file." }));
    return box;
  }

  function addClamp(clamp) {
    const cfg = modelConfig();
    const k = lab.rows++;
    const gate = select(cfg.gates.map(function (g) { return [g, NAMES[g]]; }));
    const units = select(unitChoices(cfg));
    const value = el("input", { type: "number", step: "0.05", min: "-1", max: "1", inputmode: "decimal" });
    const from = el("input", { type: "number", step: "1", min: "0", inputmode: "numeric" });
    const to = el("input", { type: "number", step: "1", min: "1", inputmode: "numeric" });
    const remove = el("button", { type: "button", class: "gl-remove", "aria-label": "Remove clamp " + (k + 1), text: "Remove" });
    gate.value = clamp.gate;
    units.value = clamp.units;
    value.value = String(clamp.value);
    from.value = String(clamp.from);
    to.value = String(clamp.to);
    const row = el("fieldset", { class: "gl-clamp" }, [
      el("legend", { text: "Clamp " + (k + 1) }),
      labelled("gl-gate-" + k, "Gate", gate),
      labelled("gl-units-" + k, "Units", units),
      labelled("gl-value-" + k, "Value", value),
      labelled("gl-from-" + k, "From step", from),
      labelled("gl-to-" + k, "To (excluded)", to),
      remove,
    ]);
    [gate, units, value, from, to].forEach(function (control) {
      control.addEventListener("change", function () { schedule(); });
    });
    remove.addEventListener("click", function () {
      row.remove();
      lab.add.focus();
      schedule();
    });
    lab.clamps.appendChild(row);
    return row;
  }

  // Applies guided set-up `key` (a button's, or the page's opening one, which neither scrolls nor
  // moves the focus: `focus` false). Resolves when it has run, or failed in the page.
  function setUp(key, focus) {
    const setup = Object.prototype.hasOwnProperty.call(lab.config.setups, key) ? lab.config.setups[key] : null;
    if (!setup) {
      lab.error.textContent = "";
      lab.error.appendChild(errorBox("This button's set-up " + JSON.stringify(key) + " is not in the lab's configuration (" + (Object.keys(lab.config.setups).length ? "set-ups: " + listed(Object.keys(lab.config.setups)) : "it has none") + ").", [], null));
      return Promise.resolve(false);
    }
    return selectModel(setup.model, setup.preset).then(function (ready) {
      if (!ready) return false;
      showActive(key);
      setup.clamps.forEach(function (c) {
        addClamp({ gate: c.gate, units: c.units === "all" ? "all" : c.units.join(","), value: c.value, from: c.from, to: c.to });
      });
      const first = setup.clamps[0].units;
      lab.showUnit.value = String(first === "all" ? modelConfig().units[0].units[0] : first[0]);
      run();
      lab.step.value = String(setup.step);
      draw();
      if (focus !== false) {
        lab.results.scrollIntoView({ block: "start" });
        lab.results.focus({ preventScroll: true });
      }
      return true;
    });
  }

  // Which set-up the lab shows, named as its button is, until the reader changes something.
  function showActive(key) {
    const button = Array.from(document.querySelectorAll("[data-gate-lab-setup]")).find(function (b) { return b.getAttribute("data-gate-lab-setup") === key; });
    const name = button ? button.textContent.trim().replace(/^Set up: /, "") : key;
    lab.active.textContent = "";
    lab.active.append("Showing the set-up “" + name + "” of ", el("a", { href: "#try-this", text: "Try this" }),
      ": change any field below to explore from here.");
    lab.active.hidden = false;
  }

  function leaveSetUp() {
    lab.active.hidden = true;
  }

  function schedule(delay) {
    leaveSetUp();
    clearTimeout(lab.pending);
    lab.pending = setTimeout(run, delay || 0);
  }

  // The clamp rows as the API takes them; rows that do not fit the input are reported and skipped.
  function readClamps(T, problems) {
    const cfg = modelConfig();
    const clamps = [];
    lab.clamps.querySelectorAll(".gl-clamp").forEach(function (row, k) {
      const get = function (name) { return row.querySelector("[id^='gl-" + name + "-']"); };
      const from = Number(get("from").value), to = Number(get("to").value), value = Number(get("value").value);
      const ok = isInt(from) && isInt(to) && from >= 0 && from < to && to <= T && isFinite(value) && get("value").value !== "";
      [get("from"), get("to"), get("value")].forEach(function (c) { c.setAttribute("aria-invalid", ok ? "false" : "true"); });
      get("from").max = String(Math.max(0, T - 1));
      get("to").max = String(T);
      if (!ok) {
        problems.push("clamp " + (k + 1) + " is skipped: it needs a value and steps with 0 ≤ from < to ≤ " + T);
        return;
      }
      const units = get("units").value === "all"
        ? Array.from({ length: cfg.hidden_size }, function (_, u) { return u; })
        : get("units").value.split(",").map(Number);
      units.forEach(function (u) { clamps.push({ gate: get("gate").value, unit: u, from: from, to: to, value: value }); });
    });
    return clamps;
  }

  function run() {
    if (!lab || !lab.name || !(lab.name in prepared)) return;
    try {
      runNow();
    } catch (error) {
      fail(error, "The lab stopped with an error.");
    }
  }

  function runNow() {
    const cfg = modelConfig();
    const ids = api.encode(lab.name, lab.input.value).slice(0, MAX_STEPS[cfg.kind]);
    if (ids.length === 0) {
      lab.status.textContent = "Type an input (or pick an example) to run the model.";
      lab.last = null;
      draw();
      return;
    }
    const problems = [];
    const clamps = readClamps(ids.length, problems);
    const started = performance.now();
    const free = api.run(lab.name, ids, []);
    const clamped = clamps.length ? api.run(lab.name, ids, clamps) : free;
    const ms = performance.now() - started;
    const input = lab.name + "\u0001" + ids.join(",");
    lab.last = { ids: ids, free: free, clamped: clamped, clamps: clamps };
    lab.step.max = String(ids.length - 1);
    if (input !== lab.input_key || Number(lab.step.value) > ids.length - 1) lab.step.value = String(ids.length - 1);
    lab.input_key = input; // a new input starts at its last step: the answer, the last prediction
    lab.error.textContent = "";
    lab.status.textContent = "Ran " + ids.length + " steps" + (clamps.length ? ", free and with " + clamps.length + " unit clamp" + (clamps.length > 1 ? "s" : "") : "") +
      " (" + ms.toFixed(1) + " ms)." + (problems.length ? " Note: " + problems.join("; ") + "." : "");
    draw();
  }

  // ---------------------------------------------------------------------------------------
  // Drawing
  // ---------------------------------------------------------------------------------------

  function softmax(logits) {
    let max = -Infinity;
    for (let k = 0; k < logits.length; k++) max = Math.max(max, logits[k]);
    let sum = 0;
    const p = logits.map(function (x) { const e = Math.exp(x - max); sum += e; return e; });
    return p.map(function (e) { return e / sum; });
  }

  function draw() {
    [lab.answers, lab.tokens, lab.charts, lab.prediction, lab.values].forEach(function (node) { node.textContent = ""; });
    if (!lab.last) return;
    const cfg = modelConfig();
    const last = lab.last;
    const T = last.ids.length;
    const t = Math.min(Number(lab.step.value), T - 1);
    const unit = Number(lab.showUnit.value);
    const pinned = new Array(T).fill(false); // the steps where the drawn unit is clamped
    const pinnedAny = new Array(T).fill(false); // where any unit is: what the answer's chart reacts to
    last.clamps.forEach(function (c) {
      for (let s = c.from; s < c.to; s++) { pinnedAny[s] = true; if (c.unit === unit) pinned[s] = true; }
    });
    lab.step.setAttribute("aria-valuetext", "step " + t + " of " + (T - 1) + ", the model has read " + shown(cfg.vocab[last.ids[t]]));
    drawAnswers(cfg, last, t);
    drawTokens(cfg, last, t, unit, pinned);
    const traces = cfg.gates.concat(cfg.cell === "lstm" ? ["c", "h"] : ["h"]);
    const expected = nextProbabilities(cfg, last);
    lab.charts.appendChild(legend(unit, t));
    // The answer first, then the drawn unit's state, then its gates.
    if (expected) lab.charts.appendChild(chart(expected.title, expected.free, expected.clamped, pinnedAny, t, [0, 1]));
    const order = (cfg.cell === "lstm" ? ["c", "h"] : ["h"]).concat(cfg.gates);
    order.forEach(function (key) {
      lab.charts.appendChild(chart(NAMES[key] + ", unit " + unit, last.free[key].map(function (v) { return v[unit]; }),
        last.clamped[key].map(function (v) { return v[unit]; }), pinned, t, key === "c" ? null : key === "h" || key === "g" || key === "n" ? [-1, 1] : [0, 1]));
    });
    drawPrediction(cfg, last, t);
    drawValues(cfg, last, t, unit, traces);
  }

  // The free and the clamped run's answers at step t, side by side: what the clamp did, at a glance.
  function drawAnswers(cfg, last, t) {
    const T = last.ids.length;
    const target = cfg.kind === "text" ? (t + 1 < T ? last.ids[t + 1] : -1) : cfg.outputs.indexOf(cfg.vocab[last.ids[0]]);
    const read = shown(cfg.vocab[last.ids[t]]);
    const clamped = last.clamps.length > 0;
    const caption = (cfg.kind === "text" ? "The next character after step " : "The answer after step ") + t + " (the model has read “" + read + "”)" +
      (cfg.kind !== "text" && t !== T - 1 ? "; the task asks at the ? step" : "");
    const card = function (name, run, extra) {
      const p = softmax(run.out[t]);
      let top = 0;
      for (let k = 1; k < p.length; k++) if (p[k] > p[top]) top = k;
      const lines = [el("p", { class: "gl-answer-run", text: name }),
        el("p", { class: "gl-answer-top" }, [el("strong", { text: shown(cfg.outputs[top]) }), document.createTextNode(" " + percent(p[top]))])];
      if (target >= 0) {
        const what = cfg.kind === "text" ? "the input's next character “" + shown(cfg.outputs[target]) + "”" : "the subject " + cfg.outputs[target];
        lines.push(el("p", { class: "gl-answer-target", text: what + ": " + percent(p[target]) }));
      }
      return { node: el("div", { class: "gl-answer" + extra }, lines), top: top };
    };
    const free = card("Free run", last.free, "");
    const cards = [free.node];
    if (clamped) {
      const held = card("Clamped run (" + last.clamps.length + " unit clamp" + (last.clamps.length > 1 ? "s" : "") + ")", last.clamped, " gl-answer-clamped");
      if (held.top !== free.top) {
        held.node.classList.add("gl-changed");
        held.node.appendChild(el("p", { class: "gl-answer-note", text: "The clamp changes the answer." }));
      }
      cards.push(held.node);
    } else {
      cards.push(el("div", { class: "gl-answer gl-answer-clamped gl-answer-none" }, [
        el("p", { class: "gl-answer-run", text: "Clamped run" }),
        el("p", { text: "No clamp: add one above, or pick a set-up in Try this." }),
      ]));
    }
    lab.answers.append(el("p", { class: "gl-answers-caption", text: caption }), el("div", { class: "gl-answer-pair" }, cards));
  }

  function percent(p) {
    return (100 * p).toFixed(p < 0.001 ? 3 : 1) + " %";
  }

  function drawTokens(cfg, last, t, unit, pinned) {
    const key = cfg.cell === "lstm" ? "c" : "h";
    let scale = 1e-9;
    last.clamped[key].forEach(function (v) { scale = Math.max(scale, Math.abs(v[unit])); });
    last.ids.forEach(function (id, s) {
      const v = last.clamped[key][s][unit] / scale;
      const span = el("span", { "data-step": String(s), title: "step " + s + ": " + key + " = " + last.clamped[key][s][unit].toFixed(3), text: shown(cfg.vocab[id]) });
      span.style.setProperty("--gl-value", Math.abs(v).toFixed(3));
      span.className = (v >= 0 ? "gl-pos" : "gl-neg") + (pinned[s] ? " gl-pinned" : "") + (s === t ? " gl-current" : "");
      lab.tokens.appendChild(span);
      if (cfg.vocab[id] === "\n") lab.tokens.appendChild(el("br"));
    });
  }

  // The probability of what comes next (the character model) or of the subject (recall), per step;
  // null for a recall input that does not open with a subject.
  function nextProbabilities(cfg, last) {
    const T = last.ids.length;
    if (cfg.kind !== "text" && cfg.outputs.indexOf(cfg.vocab[last.ids[0]]) < 0) return null;
    const target = function (s) {
      return cfg.kind === "text" ? (s + 1 < T ? last.ids[s + 1] : -1) : cfg.outputs.indexOf(cfg.vocab[last.ids[0]]);
    };
    const series = function (run) {
      return run.out.map(function (logits, s) { const k = target(s); return k < 0 ? NaN : softmax(logits)[k]; });
    };
    const title = cfg.kind === "text" ? "probability of the next character of the input" : "probability of the subject " + cfg.vocab[last.ids[0]];
    return { title: title, free: series(last.free), clamped: series(last.clamped) };
  }

  // What the lines, the shading and the thin line of the charts are: one key for all of them.
  function legend(unit, t) {
    const swatch = function (shape) {
      const svg = svgEl("svg", { class: "gl-swatch", viewBox: "0 0 28 12", width: "28", height: "12", "aria-hidden": "true", focusable: "false" });
      svg.appendChild(shape);
      return svg;
    };
    const item = function (shape, text) { return el("li", {}, [swatch(shape), document.createTextNode(" " + text)]); };
    return el("div", { class: "gl-legend" }, [
      el("p", { text: "The answer, then unit " + unit + " step by step:" }),
      el("ul", {}, [
        item(svgEl("line", { x1: 1, x2: 27, y1: 6, y2: 6, class: "gl-free" }), "free run"),
        item(svgEl("line", { x1: 1, x2: 27, y1: 6, y2: 6, class: "gl-clamped" }), "clamped run"),
        item(svgEl("rect", { x: 4, y: 0, width: 20, height: 12, class: "gl-pin" }), "clamped steps (of this unit; of any unit, for the answer)"),
        item(svgEl("line", { x1: 14, x2: 14, y1: 0, y2: 12, class: "gl-now" }), "step " + t + ", the step the tables show"),
      ]),
    ]);
  }

  // Round steps for an axis over [lo, hi] with about `count` ticks: 1, 2 or 5 times a power of ten.
  function tickStep(lo, hi, count) {
    const raw = (hi - lo) / Math.max(1, count);
    if (!(raw > 0)) return 1;
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    return [1, 2, 5, 10].map(function (k) { return k * power; }).find(function (s) { return s >= raw * (1 - 1e-9); });
  }

  function ticks(lo, hi, step) {
    const out = [];
    for (let k = Math.ceil(lo / step - 1e-9); k <= Math.floor(hi / step + 1e-9); k++) out.push(k === 0 ? 0 : k * step);
    return out;
  }

  function number(v) {
    return String(Number(v.toFixed(6))).replace("-", "−");
  }

  // One chart: the free and the clamped run of one trace over the steps, with a step axis and a
  // value axis (HTML labels beside an SVG that stretches to the column: the text keeps its size).
  function chart(title, free, clamped, pinned, t, range) {
    const T = free.length;
    const W = 600, Hh = 160, padX = 8, padY = 6;
    let lo = range ? range[0] : Infinity, hi = range ? range[1] : -Infinity;
    if (!range) {
      free.concat(clamped).forEach(function (v) { if (isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); } });
      if (!(hi > lo)) { lo -= 1; hi += 1; }
      const step = tickStep(lo, hi, 4);
      lo = Math.floor(lo / step + 1e-9) * step; // round bounds: the axis ends on a labelled value
      hi = Math.ceil(hi / step - 1e-9) * step;
    }
    const x = function (s) { return T === 1 ? W / 2 : padX + (s * (W - 2 * padX)) / (T - 1); };
    const y = function (v) { return padY + ((hi - v) * (Hh - 2 * padY)) / (hi - lo); };
    const svg = svgEl("svg", { viewBox: "0 0 " + W + " " + Hh, preserveAspectRatio: "none", class: "gl-chart", role: "img" });
    const width = T === 1 ? W : (W - 2 * padX) / (T - 1);
    pinned.forEach(function (p, s) {
      if (p) svg.appendChild(svgEl("rect", { x: x(s) - width / 2, y: 0, width: width, height: Hh, class: "gl-pin" }));
    });
    const yTicks = ticks(lo, hi, range ? (hi - lo) / 2 : tickStep(lo, hi, 4));
    yTicks.forEach(function (v) {
      svg.appendChild(svgEl("line", { x1: 0, x2: W, y1: y(v), y2: y(v), class: v === 0 ? "gl-zero" : "gl-grid" }));
    });
    const xTicks = ticks(0, T - 1, Math.max(1, tickStep(0, T - 1, 6)));
    xTicks.forEach(function (s) { svg.appendChild(svgEl("line", { x1: x(s), x2: x(s), y1: Hh - 5, y2: Hh, class: "gl-tick" })); });
    svg.appendChild(svgEl("line", { x1: x(t), x2: x(t), y1: 0, y2: Hh, class: "gl-now" }));
    const path = function (values) {
      let d = "", pen = false;
      values.forEach(function (v, s) {
        if (!isFinite(v)) { pen = false; return; }
        d += (pen ? "L" : "M") + x(s).toFixed(1) + " " + y(v).toFixed(1);
        pen = true;
      });
      return d;
    };
    svg.appendChild(svgEl("path", { d: path(free), class: "gl-free" }));
    svg.appendChild(svgEl("path", { d: path(clamped), class: "gl-clamped" }));
    const at = function (v) { return isFinite(v[t]) ? v[t].toFixed(3) : "none"; };
    svg.setAttribute("aria-label", title + " over " + T + " steps (values " + number(lo) + " to " + number(hi) + "); at step " + t + ": free " + at(free) + ", clamped " + at(clamped) + ".");
    const labels = function (cls, values, place, text) {
      const box = el("div", { class: cls, "aria-hidden": "true" });
      values.forEach(function (v) {
        const label = el("span", { text: text(v) });
        label.style.setProperty("--gl-at", (100 * place(v)).toFixed(2) + "%");
        box.appendChild(label);
      });
      return box;
    };
    const plot = el("div", { class: "gl-plot" }, [
      labels("gl-y", yTicks, function (v) { return y(v) / Hh; }, number),
      svg,
      labels("gl-x", xTicks, function (s) { return x(s) / W; }, String),
      el("div", { class: "gl-x-title", "aria-hidden": "true", text: "step" }),
    ]);
    return el("figure", { class: "gl-figure" }, [el("figcaption", { text: title }), plot]);
  }

  function drawPrediction(cfg, last, t) {
    const pFree = softmax(last.free.out[t]), pClamped = softmax(last.clamped.out[t]);
    let order = pFree.map(function (_, k) { return k; });
    order.sort(function (a, b) { return Math.max(pFree[b], pClamped[b]) - Math.max(pFree[a], pClamped[a]); });
    order = order.slice(0, 8);
    const read = shown(cfg.vocab[last.ids[t]]);
    const caption = cfg.kind === "text"
      ? "Next character after step " + t + " (the model has read “" + read + "”): the 8 most likely"
      : "The answer after step " + t + " (the model has read “" + read + "”)" + (t === last.ids.length - 1 ? "" : "; the task asks at the ? step");
    const table = el("table", { class: "gl-table" }, [el("caption", { text: caption })]);
    table.appendChild(el("thead", {}, [el("tr", {}, [el("th", { scope: "col", text: cfg.kind === "text" ? "character" : "subject" }), el("th", { scope: "col", text: "free" }), el("th", { scope: "col", text: "clamped" })])]));
    const body = el("tbody");
    order.forEach(function (k) {
      const bar = function (p) {
        const cell = el("td", { class: "gl-bar-cell" }, [el("span", { class: "gl-bar-value", text: (100 * p).toFixed(1) + "%" })]);
        cell.style.setProperty("--gl-p", p.toFixed(4));
        return cell;
      };
      body.appendChild(el("tr", {}, [el("th", { scope: "row", text: shown(cfg.outputs[k]) }), bar(pFree[k]), bar(pClamped[k])]));
    });
    table.appendChild(body);
    lab.prediction.appendChild(table);
  }

  function drawValues(cfg, last, t, unit, traces) {
    const table = el("table", { class: "gl-table" }, [el("caption", { text: "Unit " + unit + " at step " + t })]);
    table.appendChild(el("thead", {}, [el("tr", {}, [el("th", { scope: "col", text: "trace" }), el("th", { scope: "col", text: "free" }), el("th", { scope: "col", text: "clamped" })])]));
    const body = el("tbody");
    traces.forEach(function (key) {
      body.appendChild(el("tr", {}, [el("th", { scope: "row", text: NAMES[key] }), el("td", { text: last.free[key][t][unit].toFixed(4) }), el("td", { text: last.clamped[key][t][unit].toFixed(4) })]));
    });
    table.appendChild(body);
    lab.values.appendChild(el("details", {}, [el("summary", { text: "Values of unit " + unit + " at step " + t }), table]));
  }

  // Material's instant navigation swaps the page and emits document$; without Material, the DOM event.
  function start() {
    if (typeof window.document$ !== "undefined" && window.document$.subscribe) window.document$.subscribe(function () { init(); });
    else init();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
