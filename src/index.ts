export * from './nginx/directive';
