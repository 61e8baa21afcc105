// The trunkline visualiser: one page, four views, state kept in the URL hash so
// every filter and graph can be shared. Data comes from the scheduler's own API;
// the page polls while visible. No framework: elements are built with
// textContent only, because task ids carry user parameters.
(function () {
  'use strict';

  var POLL_MS = 2000;
  // The next poll waits at least this many times what the last overview cost
  // the scheduler, so a tab on a huge graph takes at most ~5% of its time.
  var POLL_COST_FACTOR = 20;
  var MAX_POLL_MS = 30000;
  var STATUS_ORDER = ['PENDING', 'RUNNING', 'BATCH_RUNNING', 'DONE', 'FAILED', 'DISABLED',
    'UPSTREAM_FAILED', 'UPSTREAM_DISABLED', 'UPSTREAM_MISSING_INPUT', 'UPSTREAM_RUNNING', 'UNKNOWN'];
  var STATUS_LABEL = {
    PENDING: 'Pending', RUNNING: 'Running', BATCH_RUNNING: 'Batch running', DONE: 'Done',
    FAILED: 'Failed', DISABLED: 'Disabled', UPSTREAM_FAILED: 'Upstream failed',
    UPSTREAM_DISABLED: 'Upstream disabled', UPSTREAM_MISSING_INPUT: 'Upstream missing',
    UPSTREAM_RUNNING: 'Upstream running', UNKNOWN: 'Unknown'
  };
  // Cards always shown, even at zero, so the layout does not jump.
  var MAIN_CARDS = ['PENDING', 'RUNNING', 'DONE', 'FAILED', 'DISABLED',
    'UPSTREAM_FAILED', 'UPSTREAM_DISABLED', 'UPSTREAM_MISSING_INPUT'];

  var state = {
    route: null,
    timer: null,
    pollMs: POLL_MS,
    lastOk: 0,
    expanded: {},        // task id -> true, rows opened in the task list
    errors: {},          // task id -> fetch_error answer, fetched once per failure
    graph: null,         // the TrunklineGraph handle of the graph view
    graphKey: '',        // what the graph shows: root + direction + done filter
    graphData: {},       // task id -> serialized task, for the side panel
    graphSelected: '',
    actionsNeedToken: false,
    token: sessionStorage.getItem('trunkline-token') || ''
  };

  // ---- small helpers -------------------------------------------------------

  function el(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        var value = attrs[key];
        if (value === undefined || value === null || value === false) return;
        if (key === 'text') node.textContent = value;
        else if (key === 'className') node.className = value;
        else if (key.slice(0, 2) === 'on') node.addEventListener(key.slice(2), value);
        else node.setAttribute(key, value === true ? '' : value);
      });
    }
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined || child === false) continue;
      node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    }
    return node;
  }

  function $(id) { return document.getElementById(id); }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function statusBadge(status) {
    return el('span', { className: 'status status-' + status, text: STATUS_LABEL[status] || status });
  }

  function ago(seconds) {
    if (!seconds) return '';
    var delta = Math.max(0, Date.now() / 1000 - seconds);
    if (delta < 5) return 'just now';
    if (delta < 60) return Math.round(delta) + ' s ago';
    if (delta < 3600) return Math.round(delta / 60) + ' min ago';
    if (delta < 86400) return Math.round(delta / 3600) + ' h ago';
    return Math.round(delta / 86400) + ' d ago';
  }

  function timeCell(seconds) {
    if (!seconds) return el('span', { className: 'muted', text: '—' });
    return el('time', { datetime: new Date(seconds * 1000).toISOString(),
      title: new Date(seconds * 1000).toLocaleString(), text: ago(seconds) });
  }

  function toast(message, isError) {
    var node = $('toast');
    node.textContent = message;
    node.className = 'toast' + (isError ? ' error' : '');
    node.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { node.hidden = true; }, 4000);
  }

  // ---- talking to the scheduler ----------------------------------------------

  function headers() {
    return state.token ? { Authorization: 'Bearer ' + state.token } : {};
  }

  function handle(response) {
    if (response.status === 401) {
      showTokenForm();
      throw new Error('The scheduler needs its auth token for this. Enter it and try again.');
    }
    return response.json().then(function (body) {
      if (!response.ok) throw new Error(body.error || ('HTTP ' + response.status));
      return body;
    });
  }

  function api(method, args) {
    var body = new URLSearchParams({ data: JSON.stringify(args || {}) });
    return fetch('/api/' + method, { method: 'POST', body: body, headers: headers() })
      .then(handle).then(function (body) { return body.response; });
  }

  function overview(params) {
    return fetch('/visualiser/api/overview?' + params.toString(), { headers: headers() }).then(handle);
  }

  function act(method, args, done) {
    return api(method, args).then(function () {
      toast(done);
      refresh();
    }, function (error) { toast(error.message, true); });
  }

  // ---- routing: the hash is the page's whole state -----------------------------

  function parseRoute() {
    var hash = location.hash.replace(/^#\/?/, '');
    var query = '';
    var q = hash.indexOf('?');
    if (q >= 0) { query = hash.slice(q + 1); hash = hash.slice(0, q); }
    var parts = hash.split('/');
    var view = ['tasks', 'graph', 'workers', 'resources'].indexOf(parts[0]) >= 0 ? parts[0] : 'tasks';
    return {
      view: view,
      taskId: view === 'graph' && parts.length > 1 ? decodeURIComponent(parts.slice(1).join('/')) : '',
      params: new URLSearchParams(query)
    };
  }

  function routeHash(view, taskId, params) {
    var query = params && params.toString();
    return '#/' + view + (taskId ? '/' + encodeURIComponent(taskId) : '') + (query ? '?' + query : '');
  }

  // Filters replace the current history entry (typing should not flood Back);
  // moving between views pushes a new one.
  function setFilters(mutate) {
    var params = new URLSearchParams(state.route.params.toString());
    mutate(params);
    history.replaceState(null, '', routeHash(state.route.view, state.route.taskId, params));
    onRoute();
  }

  function onRoute() {
    state.route = parseRoute();
    document.querySelectorAll('.view').forEach(function (section) {
      section.hidden = section.id !== 'view-' + state.route.view;
    });
    document.querySelectorAll('.tabs a').forEach(function (link) {
      link.classList.toggle('active', link.dataset.view === state.route.view);
    });
    if (state.route.view === 'tasks') syncTaskInputs();
    if (state.route.view === 'graph') syncGraphInputs();
    refresh();
  }

  // ---- polling -------------------------------------------------------------------

  function refresh() {
    clearTimeout(state.timer);
    var view = state.route.view;
    var job = view === 'tasks' ? loadTasks() : view === 'graph' ? loadGraph()
      : view === 'workers' ? loadWorkers() : loadResources();
    Promise.all([job, loadPaused()]).then(function () {
      state.lastOk = Date.now();
      setLive(true);
    }, function (error) {
      setLive(false, error.message);
    }).then(function () {
      if (!document.hidden) state.timer = setTimeout(refresh, state.pollMs);
    });
  }

  function setLive(ok, message) {
    var live = $('live');
    live.classList.toggle('offline', !ok);
    $('live-text').textContent = ok ? 'live' : 'offline — ' + (message || 'scheduler unreachable');
    live.title = ok ? 'Updated ' + new Date(state.lastOk).toLocaleTimeString() + '; refreshes every '
      + (state.pollMs / 1000).toFixed(1) + ' s' : 'Retrying every ' + (state.pollMs / 1000).toFixed(1) + ' s';
  }

  function loadPaused() {
    return api('is_paused').then(function (answer) {
      var paused = !!(answer && answer.paused);
      $('paused-badge').hidden = !paused;
      var button = $('pause-toggle');
      button.textContent = paused ? 'Unpause' : 'Pause';
      button.dataset.paused = paused ? '1' : '';
    });
  }

  // ---- tasks view ----------------------------------------------------------------

  function syncTaskInputs() {
    var search = $('search');
    var wanted = state.route.params.get('q') || '';
    if (document.activeElement !== search && search.value !== wanted) search.value = wanted;
    var selected = state.route.params.get('task');
    if (selected) state.expanded[selected] = true;
  }

  function loadTasks() {
    var p = state.route.params;
    var query = new URLSearchParams();
    ['status', 'family', 'q'].forEach(function (key) { if (p.get(key)) query.set(key, p.get(key)); });
    query.set('limit', '500');
    return overview(query).then(function (data) {
      state.pollMs = Math.min(MAX_POLL_MS, Math.max(POLL_MS, POLL_COST_FACTOR * (data.compute_ms || 0)));
      state.actionsNeedToken = data.auth && data.auth.actions_need_token;
      $('sign-in').hidden = !state.actionsNeedToken;
      $('sign-in').textContent = state.token ? 'Change token' : 'Enter token';
      renderCards(data.counts);
      renderFamilies(data.families);
      renderActiveFilters();
      renderTaskRows(data);
    });
  }

  function renderCards(counts) {
    var box = $('status-cards');
    var active = state.route.params.get('status') || '';
    clear(box);
    var shown = MAIN_CARDS.slice();
    STATUS_ORDER.forEach(function (s) { if (shown.indexOf(s) < 0 && counts[s]) shown.push(s); });
    shown.forEach(function (status) {
      box.appendChild(el('button', {
        type: 'button', className: 'card status-' + status + (active === status ? ' active' : ''),
        'data-status': status, 'aria-pressed': active === status ? 'true' : 'false',
        title: active === status ? 'Show every status' : 'Show only ' + STATUS_LABEL[status].toLowerCase() + ' tasks',
        onclick: function () {
          setFilters(function (params) {
            if (params.get('status') === status) params.delete('status'); else params.set('status', status);
          });
        }
      }, el('span', { className: 'count', text: String(counts[status] || 0) }),
         el('span', { className: 'label', text: STATUS_LABEL[status] })));
    });
  }

  function renderFamilies(families) {
    var list = $('family-list');
    var active = state.route.params.get('family') || '';
    var status = state.route.params.get('status') || '';
    clear(list);
    var names = Object.keys(families).sort();
    if (!names.length) list.appendChild(el('li', { className: 'muted', text: 'No tasks yet' }));
    names.forEach(function (name) {
      var counts = families[name];
      var total = 0;
      Object.keys(counts).forEach(function (s) { if (s.indexOf('UPSTREAM_') !== 0) total += counts[s]; });
      var shown = status ? (counts[status] || 0) : total;
      if (status && !shown && name !== active) return;
      var bar = el('span', { className: 'family-bar' });
      ['DONE', 'RUNNING', 'PENDING', 'FAILED', 'DISABLED'].forEach(function (s) {
        if (counts[s]) bar.appendChild(el('span', { className: 'status-' + s, style: 'flex-grow:' + counts[s] }));
      });
      list.appendChild(el('li', null, el('button', {
        type: 'button', className: 'family' + (name === active ? ' active' : ''), 'data-family': name,
        onclick: function () {
          setFilters(function (params) {
            if (params.get('family') === name) params.delete('family'); else params.set('family', name);
          });
        }
      }, el('span', { className: 'family-name', text: name }), el('span', { className: 'count', text: String(shown) }), bar)));
    });
  }

  function renderActiveFilters() {
    var box = $('active-filters');
    clear(box);
    [['status', 'status'], ['family', 'family'], ['q', 'text']].forEach(function (pair) {
      var value = state.route.params.get(pair[0]);
      if (!value) return;
      box.appendChild(el('button', {
        type: 'button', className: 'chip', title: 'Remove this filter',
        onclick: function () { setFilters(function (params) { params.delete(pair[0]); }); }
      }, pair[1] + ': ' + (pair[0] === 'status' ? STATUS_LABEL[value] || value : value) + ' ×'));
    });
  }

  function taskName(task) {
    var params = task.params || {};
    var keys = Object.keys(params).sort();
    var wrap = el('span', { className: 'task-name' }, el('strong', { text: task.name }));
    if (keys.length) {
      var list = el('span', { className: 'params' });
      keys.forEach(function (key, i) {
        list.appendChild(el('span', { className: 'param' },
          el('span', { className: 'param-key', text: key + '=' }), String(params[key])));
        if (i < keys.length - 1) list.appendChild(document.createTextNode(', '));
      });
      wrap.appendChild(list);
    }
    return wrap;
  }

  // Luigi's worker ids read "Worker(salt=..., workers=2, host=h, username=u, pid=12)":
  // show host and pid, keep the whole id as the tooltip.
  function workerText(workerId) {
    var host = /host=([^,)]+)/.exec(workerId);
    var pid = /pid=(\d+)/.exec(workerId);
    return host ? host[1] + (pid ? ' · pid ' + pid[1] : '') : workerId;
  }

  function workerLabel(workerId) {
    if (!workerId) return el('span', { className: 'muted', text: '' });
    return el('span', { className: 'worker', title: workerId, text: workerText(workerId) });
  }

  function progressCell(task) {
    var cell = el('div', { className: 'progress-cell' });
    if (task.progress_percentage !== null && task.progress_percentage !== undefined) {
      var pct = Math.max(0, Math.min(100, Number(task.progress_percentage) || 0));
      cell.appendChild(el('div', { className: 'progress', title: pct + '%' },
        el('div', { className: 'progress-fill', style: 'width:' + pct + '%' })));
    }
    if (task.status_message) cell.appendChild(el('div', { className: 'status-message', text: task.status_message }));
    return cell;
  }

  function renderTaskRows(data) {
    var body = $('task-table').querySelector('tbody');
    clear(body);
    var tasks = data.tasks;
    var summary = data.matching === data.total
      ? data.total + ' tasks'
      : data.matching + ' of ' + data.total + ' tasks match';
    if (data.matching > tasks.length) summary += ' — showing the ' + tasks.length + ' most recently updated';
    $('task-summary').textContent = summary;
    if (!tasks.length) {
      body.appendChild(el('tr', { className: 'empty' }, el('td', { colspan: '6',
        text: data.total ? 'No task matches these filters.' : 'No tasks yet: run a workflow against this scheduler.' })));
      return;
    }
    tasks.forEach(function (task) {
      var open = !!state.expanded[task.task_id];
      var row = el('tr', {
        className: 'task-row' + (open ? ' open' : ''), 'data-task-id': task.task_id, 'data-status': task.status,
        title: task.task_id,
        onclick: function (event) {
          if (event.target.closest('a,button')) return;
          if (state.expanded[task.task_id]) delete state.expanded[task.task_id];
          else state.expanded[task.task_id] = true;
          setFilters(function (params) {
            if (state.expanded[task.task_id]) params.set('task', task.task_id);
            else if (params.get('task') === task.task_id) params.delete('task');
          });
        }
      },
      el('td', null, statusBadge(task.status),
         task.upstream_status
           ? el('div', { className: 'upstream', text: STATUS_LABEL[task.upstream_status] || '' }) : null),
      el('td', null, taskName(task)),
      el('td', null, workerLabel(task.worker_running)),
      el('td', null, timeCell(task.time_running)),
      el('td', null, progressCell(task)),
      el('td', null, el('a', { href: routeHash('graph', task.task_id), className: 'link', text: 'Graph' })));
      body.appendChild(row);
      if (open) body.appendChild(el('tr', { className: 'details-row' }, el('td', { colspan: '6' }, taskDetails(task))));
    });
  }

  // The detail block used by the task list and by the graph's side panel.
  function taskDetails(task) {
    var box = el('div', { className: 'task-details', 'data-task-id': task.task_id });
    box.appendChild(el('div', { className: 'details-head' }, statusBadge(task.status),
      el('code', { className: 'task-id', text: task.task_id })));
    var table = el('table', { className: 'kv' });
    var params = task.params || {};
    Object.keys(params).sort().forEach(function (key) {
      table.appendChild(el('tr', null, el('th', { text: key }), el('td', null, el('code', { text: String(params[key]) }))));
    });
    var facts = [
      ['Running on', task.worker_running ? workerText(task.worker_running) : ''],
      ['Wanted by', task.worker_running ? '' : (task.workers || []).map(workerText).join(', ')],
      ['Started', task.time_running ? new Date(task.time_running * 1000).toLocaleString() : ''],
      ['First seen', task.start_time ? new Date(task.start_time * 1000).toLocaleString() : ''],
      ['Last updated', task.last_updated ? new Date(task.last_updated * 1000).toLocaleString() : ''],
      ['Priority', task.priority ? String(task.priority) : ''],
      ['Resources', task.resources && Object.keys(task.resources).length ? JSON.stringify(task.resources) : ''],
      ['Status message', task.status_message || ''],
      ['Progress', task.progress_percentage !== null && task.progress_percentage !== undefined ? task.progress_percentage + '%' : '']
    ];
    facts.forEach(function (fact) {
      if (fact[1]) table.appendChild(el('tr', null, el('th', { text: fact[0] }), el('td', { text: fact[1] })));
    });
    if (task.tracking_url) {
      table.appendChild(el('tr', null, el('th', { text: 'Tracking' }),
        el('td', null, el('a', { href: task.tracking_url, rel: 'noopener', target: '_blank', text: task.tracking_url }))));
    }
    box.appendChild(table);
    if (task.status === 'FAILED' || task.status === 'DISABLED') box.appendChild(errorBlock(task.task_id));
    box.appendChild(taskActions(task));
    return box;
  }

  // Luigi workers send the explanation JSON-encoded; show the text inside.
  function readableError(error) {
    if (typeof error !== 'string') return JSON.stringify(error, null, 2);
    try {
      var decoded = JSON.parse(error);
      if (typeof decoded === 'string') return decoded;
    } catch (ignored) { /* plain text already */ }
    return error;
  }

  function errorBlock(taskId) {
    var pre = el('pre', { className: 'traceback', text: 'Loading the error…' });
    var known = state.errors[taskId];
    if (known !== undefined) {
      pre.textContent = known || 'The worker reported no error text.';
    } else {
      api('fetch_error', { task_id: taskId }).then(function (answer) {
        state.errors[taskId] = readableError((answer && answer.error) || '');
        pre.textContent = state.errors[taskId] || 'The worker reported no error text.';
      }, function (error) { pre.textContent = 'Could not fetch the error: ' + error.message; });
    }
    return el('div', { className: 'error-block' }, el('h3', { text: 'Error' }), pre);
  }

  function taskActions(task) {
    var bar = el('div', { className: 'actions' });
    var id = task.task_id;
    bar.appendChild(el('a', { className: 'btn', href: routeHash('graph', id), text: 'Dependency graph' }));
    bar.appendChild(el('a', { className: 'btn', href: routeHash('graph', id, new URLSearchParams('dir=downstream')), text: 'Dependents' }));
    if (task.status === 'DISABLED') {
      bar.appendChild(el('button', { type: 'button', className: 'btn primary', 'data-action': 're_enable_task',
        onclick: function () { act('re_enable_task', { task_id: id }, 'Re-enabled ' + id); }, text: 'Re-enable' }));
    }
    if (task.status === 'FAILED') {
      bar.appendChild(el('button', { type: 'button', className: 'btn', 'data-action': 'forgive_failures',
        onclick: function () { delete state.errors[id]; act('forgive_failures', { task_id: id }, 'Forgave the failures of ' + id); },
        text: 'Forgive failures' }));
    }
    if (task.status !== 'DONE' && task.status !== 'RUNNING' && task.status !== 'BATCH_RUNNING') {
      bar.appendChild(el('button', { type: 'button', className: 'btn', 'data-action': 'mark_as_done',
        onclick: function () {
          if (confirm('Mark ' + id + ' as done? Its dependents will run as if its output existed.')) {
            act('mark_as_done', { task_id: id }, 'Marked ' + id + ' as done');
          }
        }, text: 'Mark as done' }));
    }
    return bar;
  }

  // ---- graph view -----------------------------------------------------------------

  function syncGraphInputs() {
    var input = $('graph-task-input');
    if (document.activeElement !== input) input.value = state.route.taskId;
    var dir = state.route.params.get('dir') === 'downstream' ? 'downstream' : 'upstream';
    document.querySelectorAll('[data-direction]').forEach(function (button) {
      button.classList.toggle('active', button.dataset.direction === dir);
    });
    $('hide-done').checked = state.route.params.get('done') === 'hide';
  }

  function loadGraph() {
    var root = state.route.taskId;
    var container = $('graph');
    if (!root) {
      destroyGraph();
      clear(container);
      container.appendChild(el('p', { className: 'graph-empty',
        text: 'Enter a task id above, or open a task in the Tasks view and choose “Dependency graph”.' }));
      $('graph-summary').textContent = '';
      return Promise.resolve();
    }
    var downstream = state.route.params.get('dir') === 'downstream';
    var hideDone = state.route.params.get('done') === 'hide';
    var method = downstream ? 'inverse_dep_graph' : 'dep_graph';
    var asked = performance.now();
    return api(method, { task_id: root, include_done: !hideDone }).then(function (graph) {
      // A large graph costs the scheduler (and this page) more: refresh it less often.
      state.pollMs = Math.min(MAX_POLL_MS, Math.max(POLL_MS, POLL_COST_FACTOR * (performance.now() - asked)));
      graph = graph || {};
      var ids = Object.keys(graph);
      var nodes = [];
      var edges = [];
      state.graphData = {};
      ids.forEach(function (id) {
        var task = graph[id];
        task.task_id = id;
        state.graphData[id] = task;
        nodes.push({ id: id, label: task.display_name || id, status: task.status, family: task.name });
        (task.deps || []).forEach(function (other) {
          if (!graph[other]) return;  // cut off by the node limit or the done filter
          edges.push(downstream ? [other, id] : [id, other]);
        });
      });
      var key = root + '|' + method + '|' + hideDone;
      if (!ids.length) {
        destroyGraph();
        clear(container);
        container.appendChild(el('p', { className: 'graph-empty', text: 'The scheduler does not know the task ' + root + '.' }));
      } else if (state.graph && state.graphKey === key) {
        state.graph.update(nodes, edges);
      } else {
        destroyGraph();
        clear(container);
        state.graphKey = key;
        state.graph = window.TrunklineGraph.render(container, nodes, edges, {
          direction: 'LR', selected: state.graphSelected || root,
          onSelect: function (id) { state.graphSelected = id; showGraphDetails(); }
        });
      }
      if (!state.graphSelected || !state.graphData[state.graphSelected]) state.graphSelected = root;
      var counts = {};
      nodes.forEach(function (n) { counts[n.status] = (counts[n.status] || 0) + 1; });
      $('graph-summary').textContent = nodes.length + ' tasks: ' + Object.keys(counts).sort().map(function (s) {
        return counts[s] + ' ' + (STATUS_LABEL[s] || s).toLowerCase();
      }).join(', ');
      showGraphDetails();
    });
  }

  function destroyGraph() {
    if (state.graph) state.graph.destroy();
    state.graph = null;
    state.graphKey = '';
  }

  function showGraphDetails() {
    var panel = $('graph-details');
    var task = state.graphData[state.graphSelected];
    clear(panel);
    if (!task) { panel.appendChild(el('p', { className: 'muted', text: 'Click a task to see it here.' })); return; }
    panel.appendChild(taskDetails(task));
  }

  // ---- workers and resources ---------------------------------------------------

  function loadWorkers() {
    return api('worker_list').then(function (workers) {
      var box = $('worker-list');
      clear(box);
      workers = workers || [];
      var active = workers.filter(function (w) { return w.state !== 'disabled'; }).length;
      $('worker-summary').textContent = workers.length
        ? workers.length + ' workers (' + active + ' active)' : 'No worker has connected yet.';
      workers.forEach(function (worker) {
        var running = worker.running || {};
        var runningIds = Object.keys(running);
        var card = el('article', { className: 'worker-card' + (worker.state === 'disabled' ? ' disabled' : ''),
          'data-worker': worker.name });
        card.appendChild(el('header', null,
          el('h3', { text: worker.host ? worker.host + (worker.pid ? ' · pid ' + worker.pid : '') : worker.name }),
          el('span', { className: 'badge ' + (worker.state === 'disabled' ? 'paused' : 'ok'), text: worker.state })));
        var table = el('table', { className: 'kv' });
        [['Worker', worker.name], ['User', worker.username], ['Processes', worker.workers],
         ['Started', worker.started ? new Date(worker.started * 1000).toLocaleString() : ''],
         ['Pending tasks', String(worker.num_pending || 0) + (worker.num_uniques ? ' (' + worker.num_uniques + ' only it can run)' : '')],
         ['First task', worker.first_task_display_name]].forEach(function (fact) {
          if (fact[1] !== undefined && fact[1] !== null && fact[1] !== '') {
            table.appendChild(el('tr', null, el('th', { text: fact[0] }), el('td', { text: String(fact[1]) })));
          }
        });
        table.appendChild(el('tr', null, el('th', { text: 'Last seen' }), el('td', null, timeCell(worker.last_active))));
        card.appendChild(table);
        var list = el('ul', { className: 'running-list' });
        runningIds.forEach(function (id) {
          list.appendChild(el('li', null, statusBadge(running[id].status), ' ',
            el('a', { href: routeHash('tasks', '', new URLSearchParams({ q: id, task: id })), text: running[id].display_name || id }),
            running[id].status_message ? el('span', { className: 'status-message', text: ' — ' + running[id].status_message }) : null));
        });
        card.appendChild(el('h4', { text: runningIds.length ? 'Running (' + runningIds.length + ')' : 'Running nothing' }));
        if (runningIds.length) card.appendChild(list);
        if (worker.state !== 'disabled') {
          card.appendChild(el('div', { className: 'actions' }, el('button', {
            type: 'button', className: 'btn', 'data-action': 'disable_worker', text: 'Disable worker',
            onclick: function () {
              if (confirm('Disable ' + worker.name + '? It will get no more work from this scheduler.')) {
                act('disable_worker', { worker: worker.name }, 'Disabled ' + worker.name);
              }
            }
          })));
        }
        box.appendChild(card);
      });
    });
  }

  function loadResources() {
    return api('resource_list').then(function (resources) {
      var body = $('resource-table').querySelector('tbody');
      clear(body);
      resources = resources || [];
      $('resource-summary').textContent = resources.length ? ''
        : 'No resources: tasks declare them with `resources = {"name": n}`, and [resources] in the scheduler\'s configuration sets capacities.';
      resources.forEach(function (resource) {
        var used = resource.num_used || 0;
        var total = resource.num_total || 0;
        var pct = total ? Math.min(100, 100 * used / total) : 0;
        var users = el('ul', { className: 'running-list' });
        (resource.running || []).forEach(function (task) {
          users.appendChild(el('li', null, el('span', { text: task.display_name || task.name })));
        });
        body.appendChild(el('tr', { 'data-resource': resource.name },
          el('td', null, el('strong', { text: resource.name })),
          el('td', null, el('div', { className: 'progress', title: used + ' of ' + total },
            el('div', { className: 'progress-fill' + (used >= total ? ' full' : ''), style: 'width:' + pct + '%' })),
            el('span', { className: 'usage', text: used + ' / ' + total })),
          el('td', null, users)));
      });
    });
  }

  // ---- wiring -----------------------------------------------------------------------

  function showTokenForm() {
    $('token-form').hidden = false;
    $('token-input').focus();
  }

  function wire() {
    var searchTimer = null;
    $('search').addEventListener('input', function (event) {
      clearTimeout(searchTimer);
      var value = event.target.value.trim();
      searchTimer = setTimeout(function () {
        setFilters(function (params) { if (value) params.set('q', value); else params.delete('q'); });
      }, 250);
    });
    $('graph-pick').addEventListener('submit', function (event) {
      event.preventDefault();
      var id = $('graph-task-input').value.trim();
      if (id) location.hash = routeHash('graph', id, state.route.params);
    });
    document.querySelectorAll('[data-direction]').forEach(function (button) {
      button.addEventListener('click', function () {
        setFilters(function (params) {
          if (button.dataset.direction === 'downstream') params.set('dir', 'downstream'); else params.delete('dir');
        });
      });
    });
    $('hide-done').addEventListener('change', function (event) {
      setFilters(function (params) { if (event.target.checked) params.set('done', 'hide'); else params.delete('done'); });
    });
    $('graph-fit').addEventListener('click', function () { if (state.graph) state.graph.fit(); });
    $('pause-toggle').addEventListener('click', function (event) {
      var paused = !!event.target.dataset.paused;
      act(paused ? 'unpause' : 'pause', {}, paused ? 'Scheduler unpaused' : 'Scheduler paused: no new work is handed out');
    });
    $('sign-in').addEventListener('click', showTokenForm);
    $('token-cancel').addEventListener('click', function () { $('token-form').hidden = true; });
    $('token-form').addEventListener('submit', function (event) {
      event.preventDefault();
      state.token = $('token-input').value;
      if (state.token) sessionStorage.setItem('trunkline-token', state.token);
      else sessionStorage.removeItem('trunkline-token');
      $('token-input').value = '';
      $('token-form').hidden = true;
      toast(state.token ? 'Token saved for this tab' : 'Token cleared');
      refresh();
    });
    window.addEventListener('hashchange', onRoute);
    document.addEventListener('visibilitychange', function () { if (!document.hidden) refresh(); });
    if (!location.hash) history.replaceState(null, '', '#/tasks');
    api('has_task_history').then(function (has) { $('history-link').hidden = !has; }, function () {});
    onRoute();
  }

  wire();
}());
