export { attachConsole, type Lines } from './console-output';
export { Dashboard, type DashboardModel, renderDashboard } from './dashboard';
